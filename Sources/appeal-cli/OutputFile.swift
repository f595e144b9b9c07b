import Foundation

/// Where a command's output goes: standard output, or the file `--out` names. Every write is checked, so a
/// full disk or a closed pipe is an error (exit 1), never lost output or a crash.
///
/// A regular file is written beside its place and renamed over it when complete, so a reader never sees half
/// of it. A FIFO or a device (`/dev/stdout`, a named pipe) is written through, never replaced. A symbolic
/// link or a folder is refused: the output goes only where the user named.
final class OutputFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// Bad input (exit 2) rather than a failing machine (exit 1).
        var isUserError = false
    }

    let name: String
    private let descriptor: Int32
    /// The temporary file to rename to `name` at the end, for a regular file.
    private let temporary: String?
    private var buffer: [UInt8] = []

    /// Standard output.
    init() {
        name = "standard output"
        descriptor = STDOUT_FILENO
        temporary = nil
        StandardOutput.flush()
    }

    /// The file at `path`.
    init(path: String) throws {
        name = path
        var info = stat()
        if lstat(path, &info) == 0 {
            var target = stat()
            let linkToDevice = info.st_mode & S_IFMT == S_IFLNK && stat(path, &target) == 0
                && [S_IFCHR, S_IFIFO, S_IFSOCK].contains(target.st_mode & S_IFMT)
            switch info.st_mode & S_IFMT {
            case S_IFLNK where !linkToDevice:
                throw Failure(description: "\(path) is a symbolic link to a file or folder: name the file itself", isUserError: true)
            case S_IFDIR:
                throw Failure(description: "\(path) is a folder: name a file", isUserError: true)
            case S_IFREG:
                break
            default:
                // A FIFO, a device or a socket, or a link to one (/dev/stdout): written through, as a shell
                // redirection would.
                descriptor = open(path, O_WRONLY | O_CLOEXEC | (linkToDevice ? 0 : O_NOFOLLOW))
                guard descriptor >= 0 else { throw Self.failure("cannot open \(path)") }
                temporary = nil
                return
            }
        } else if errno != ENOENT {
            throw Self.failure("cannot write \(path)")
        }
        let partial = "\(path).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // Before the file exists: a signal the moment after it is made still removes it.
        PartialFile.removeOnSignal(partial)
        descriptor = open(partial, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            var failure = Self.failure("cannot write \(path)")
            // A folder that does not exist is a mistake in the command, not a failing machine.
            failure.isUserError = errno == ENOENT || errno == ENOTDIR
            PartialFile.keepOnSignal()
            throw failure
        }
        temporary = partial
    }

    /// Whether the output is a regular file (not standard output, a FIFO or a device such as `/dev/stdout`).
    var isRegularFile: Bool { temporary != nil }

    deinit {
        if descriptor != STDOUT_FILENO { close(descriptor) }
        if let temporary {
            unlink(temporary)
            PartialFile.keepOnSignal()
        }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered, and puts the file in its place.
    func finish() throws {
        try flush()
        if let temporary {
            guard fsync(descriptor) == 0 else { throw Self.failure("cannot write \(name)") }
            guard rename(temporary, name) == 0 else { throw Self.failure("cannot write \(name)") }
            PartialFile.keepOnSignal()
        }
        withExtendedLifetime(self) {}
    }

    private func flush() throws {
        guard StandardOutput.writeAll(descriptor, buffer) else { throw Self.failure("cannot write \(name)") }
        buffer.removeAll(keepingCapacity: true)
    }

    private static func failure(_ doing: String) -> Failure {
        Failure(description: "\(doing): \(String(cString: strerror(errno)))")
    }
}

/// The file being written, removed when SIGINT, SIGTERM or SIGHUP ends the process before it is complete: a
/// half-written export (personal data) is never left beside its place.
private enum PartialFile {
    /// Read by the signal handler, which may only call async-signal-safe functions: a C string set before the
    /// handler is installed and freed after it is removed.
    nonisolated(unsafe) private static var path: UnsafeMutablePointer<CChar>?
    private static let signals = [SIGINT, SIGTERM, SIGHUP]

    static func removeOnSignal(_ file: String) {
        path = strdup(file)
        for number in signals {
            signal(number) { number in
                if let path = PartialFile.path { unlink(path) }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    static func keepOnSignal() {
        for number in signals { signal(number, SIG_DFL) }
        free(path)
        path = nil
    }
}
