import Foundation
import GRDB

/// Copies the write-ahead log into the database file on a connection and thread of its own, while a bulk
/// writer goes on committing.
///
/// SQLite checkpoints in the committing thread by default: for `queue`, whose batches write megabytes of
/// letters, that copy was a third of the writer's time, with the other core idle. A passive checkpoint
/// never blocks the writer. The log is restarted only when a commit finds it fully copied and no reader
/// in it, so every other batch ``catchUp()`` finishes the copy before the next write: the log stays two
/// batches long.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "appeal.checkpoint")
    private let lock = NSLock()
    private var running = false
    private var requested = false
    private var failure: (any Error)?

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "appeal.checkpoint"
        configuration.busyMode = .timeout(30)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Starts copying what was committed so far, unless a copy is under way (it then runs once more after).
    func request() {
        let start = lock.withLock {
            requested = true
            if running { return false }
            running = true
            return true
        }
        if start { queue.async { self.run() } }
    }

    /// Waits for the copies under way, then copies what is left, so that the next commit restarts the log.
    func catchUp() throws {
        finish()
        // RESTART also waits for readers of the old log to move on, so that the next commit starts it anew.
        // Another process's reader or writer (a `send`) may keep it from finishing: the log is then restarted at
        // a later batch; the copy itself is never lost.
        do {
            try checkpoint(.restart)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
        }
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Waits for the copies under way.
    func finish() {
        queue.sync {}
    }

    private func run() {
        while lock.withLock({ () -> Bool in
            if requested { requested = false; return true }
            running = false
            return false
        }) {
            do {
                try checkpoint()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                // Another process's connection holds the log: this copy is done by a later one.
            } catch {
                lock.withLock { failure = error }
            }
        }
    }

    private func checkpoint(_ mode: Database.CheckpointMode = .passive) throws {
        try connection.writeWithoutTransaction { db in _ = try db.checkpoint(mode) }
    }
}
