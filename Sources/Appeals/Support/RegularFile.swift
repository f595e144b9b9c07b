import Foundation

/// Opening an input file that must be a plain file (a CSV, an mbox).
enum RegularFile {
    enum Refusal: Error, Equatable {
        /// `open` failed: the system's words.
        case cannotOpen(String)
        case folder
        case notRegular

        /// Why, in words.
        var reason: String {
            switch self {
            case .cannotOpen(let words): words
            case .folder: "a folder, not a file"
            case .notRegular: "not a regular file"
            }
        }
    }

    /// Opens `path` for reading without waiting (a named pipe with no writer would block `open`), refuses it unless
    /// it is a regular file, then makes its reads blocking again.
    /// - Returns: the descriptor, which the caller closes, and the file's status when opened.
    static func open(_ path: String) throws(Refusal) -> (descriptor: Int32, status: stat) {
        let descriptor = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw (status.st_mode & S_IFMT) == S_IFDIR ? .folder : .notRegular
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, status)
    }

    /// The most ``contents(_:doing:)`` reads: a campaign's templates, its targets or a config are far smaller.
    static let maxContents = 16 * 1_048_576

    /// The whole of the plain file `path`, for the small files read at once (a campaign's folder, a config).
    /// - Throws: ``AppealsError/invalid(_:_:)`` naming the file, `doing` and why (the system's words).
    static func contents(_ path: String, doing: String = "cannot read the file") throws(AppealsError) -> Data {
        let (descriptor, status): (Int32, stat)
        do {
            (descriptor, status) = try open(path)
        } catch {
            throw .invalid(InputLocation(file: path), "\(doing): \(error.reason)")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        if status.st_size > maxContents {
            throw .invalid(InputLocation(file: path), "\(doing): it is \(status.st_size) bytes, and such a file is at most \(maxContents / 1_048_576) MB")
        }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw .invalid(InputLocation(file: path), "\(doing): \((error as NSError).localizedDescription)")
        }
    }
}
