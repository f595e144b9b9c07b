import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log into the database file on a connection and thread of its own, while a bulk
/// writer goes on committing.
///
/// SQLite checkpoints in the committing thread by default: for `queue`, whose batches write megabytes of
/// letters, that copy was a third of the writer's time, with the other core idle. A passive checkpoint
/// never blocks the writer. The log is restarted only when a commit finds it fully copied and no reader
/// in it, so every other batch ``catchUp()`` finishes the copy before the next write: the log stays two
/// batches long.
final class WALCheckpointer: Sendable {
    /// Its own connection: a queue serializes its copies, and makes ``catchUp()`` wait for the one under way.
    private let connection: DatabaseQueue
    /// Requests for a copy; those that come while one runs make one more copy after it.
    private let requests: AsyncStream<Void>
    private let requester: AsyncStream<Void>.Continuation
    private let failure = Mutex<(any Error)?>(nil)

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "appeal.checkpoint"
        configuration.busyMode = .timeout(30)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        (requests, requester) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a copy of what was committed so far; returns at once.
    func request() {
        requester.yield()
    }

    /// No more requests: ``run()`` returns after the copy under way.
    func finish() {
        requester.finish()
    }

    /// The copier, as a stage of its own: copies the log into the file each time it is asked. Blocks in
    /// SQLite: run it on a thread of its own.
    func run() async {
        for await _ in requests {
            do {
                try checkpoint()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                // Another process's connection holds the log: this copy is done by a later one.
            } catch {
                failure.withLock { $0 = error }
            }
        }
    }

    /// Finishes the copy (waiting for the one under way), so that the next commit restarts the log.
    func catchUp() throws {
        // RESTART also waits for readers of the old log to move on, so that the next commit starts it anew.
        // Another process's reader or writer (a `send`) may keep it from finishing: the log is then restarted at
        // a later batch; the copy itself is never lost.
        do {
            try checkpoint(.restart)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
    }

    private func checkpoint(_ mode: Database.CheckpointMode = .passive) throws {
        try connection.writeWithoutTransaction { db in _ = try db.checkpoint(mode) }
    }
}
