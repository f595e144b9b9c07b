import Foundation

/// One `queue` run at a time per database: an exclusive `flock` on a file beside it, released by the kernel
/// however the process ends.
///
/// `queue` writes in large batches and keeps the write-ahead log short by restarting it; two runs at once
/// would render the same letters twice and fight over the log. The second waits, then finds the letters
/// queued and adds nothing.
final class QueueLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, calling `waiting` first if another run holds it.
    /// - Throws: ``AppealsError/storage(_:)`` when the lock file cannot be created.
    init(databasePath: String, waiting: () -> Void) throws(AppealsError) {
        let folder = SendRunLease.folder(for: databasePath)
        _ = mkdir(folder, 0o700)
        let path = "\(folder)/queue.lock"
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage("cannot create the queue lock \(path): \(String(cString: strerror(errno)))") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            waiting()
            while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
