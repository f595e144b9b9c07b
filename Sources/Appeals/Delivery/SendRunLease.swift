import Foundation
import Synchronization

/// Proof that a send run is alive: an exclusive `flock` on a file of its own beside the database.
///
/// The kernel drops the lock when the process dies, however it dies (SIGKILL included), so another run
/// can tell a dead run's `sending` letters from a live one's without trusting PIDs, which are reused.
public final class SendRunLease: Sendable {
    public let id: String
    private let path: String
    /// `-1` once the lease is given up.
    private let descriptor: Mutex<Int32>

    /// Takes a new lease for this process.
    /// - Throws: ``AppealsError/storage(_:)`` when the lease file cannot be created.
    public init(databasePath: String) throws(AppealsError) {
        let folder = Self.folder(for: databasePath)
        _ = mkdir(folder, 0o700)
        id = "\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        path = "\(folder)/\(id).lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw .storage("cannot create the send-run lock \(path): \(String(cString: strerror(errno)))")
        }
        descriptor = Mutex(fd)
    }

    deinit { end() }

    /// Gives the lease up; its letters must have been recorded or released first.
    public func end() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            unlink(path)
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    /// Whether the run `id` still holds its lease. A run whose lease file is gone or unlocked is dead.
    public static func isAlive(_ id: String, databasePath: String) -> Bool {
        guard !id.contains("/") else { return false }
        let path = "\(folder(for: databasePath))/\(id).lock"
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            unlink(path)
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    /// Whether any send run on this database is alive.
    public static func anyAlive(databasePath: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(for: databasePath))) ?? []
        return names.contains { $0.hasSuffix(".lock") && $0 != "queue.lock" && isAlive(String($0.dropLast(5)), databasePath: databasePath) }
    }

    static func folder(for databasePath: String) -> String { databasePath + ".runs" }
}
