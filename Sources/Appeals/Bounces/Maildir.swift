import Foundation

/// A Maildir that bounces are delivered to. `bounces ingest --maildir` takes each message from `new/` to
/// `cur/` and flags it seen (`:2,S`) once it is stored, so that a rerun, or a run beside it, reads each once.
///
/// A message is claimed by moving it into `cur/` without the flag (linked to a free name there, then
/// unlinked from `new/`: only one run's link succeeds), and held with a `flock` while it is read:
/// a run that finds it there unflagged and unlocked (its run died) takes it over; one that finds it locked
/// leaves it. Storing is idempotent besides (by the message's SHA-256), so the worst a race can do is store
/// nothing twice.
public struct Maildir: Sendable {
    public let path: String

    /// A message this run holds (one at a time: a Maildir may hold more messages than a process may open
    /// files): read it, store it, then ``done(_:)``.
    public final class Claim: @unchecked Sendable {
        // Used by one run's thread only: `@unchecked` because the descriptor is a plain Int32.
        public let name: String
        let path: String
        let descriptor: Int32

        init(name: String, path: String, descriptor: Int32) {
            self.name = name
            self.path = path
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }
    }

    /// - Throws: ``AppealsError/invalidInput(_:)`` when `path` is not a Maildir (no `new/` and `cur/`).
    public init(path: String) throws(AppealsError) {
        var isDirectory: ObjCBool = false
        for sub in ["new", "cur"] where !(FileManager.default.fileExists(atPath: "\(path)/\(sub)", isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw .invalid(InputLocation(file: path, field: "--maildir"), "not a Maildir: it has no \(sub)/ folder")
        }
        self.path = path
    }

    /// A message waiting: new, or claimed by a run that died.
    public struct Waiting: Sendable {
        public var name: String
        var inNew: Bool
        /// What it is when it is not a regular file (a folder, a symbolic link…): then never opened, and said so.
        public var oddity: String?
    }

    /// The messages waiting, oldest name first: new ones, and claimed ones whose run died.
    public func waiting() -> [Waiting] {
        func waiting(_ name: String, inNew: Bool) -> Waiting {
            var info = stat()
            guard lstat("\(path)/\(inNew ? "new" : "cur")/\(name)", &info) == 0 else {
                return Waiting(name: name, inNew: inNew, oddity: nil)  // Gone meanwhile: claiming it finds out.
            }
            let oddity: String? = switch info.st_mode & S_IFMT {
            case S_IFREG: nil
            case S_IFDIR: "a folder"
            case S_IFLNK: "a symbolic link: not followed"
            case S_IFIFO: "a named pipe"
            case S_IFSOCK: "a socket"
            default: "a device"
            }
            return Waiting(name: name, inNew: inNew, oddity: oddity)
        }
        return Self.entries(in: "\(path)/new").map { waiting($0, inNew: true) }
            + Self.entries(in: "\(path)/cur").filter(Self.isUnfinished).map { waiting($0, inNew: false) }
    }

    /// What claiming a waiting message gave.
    public enum Claimed {
        case claimed(Claim)
        /// Another run took it first (or it is gone): nothing to do.
        case taken
        /// It cannot be opened (its permissions, a link put in its place…): left where it is, and said so.
        case unreadable(String)
    }

    /// Takes a waiting message for this run, locked.
    public func claim(_ message: Waiting) -> Claimed {
        let base = String(message.name.prefix { $0 != ":" })
        if let oddity = message.oddity { return .unreadable("not a regular file but \(oddity)") }
        guard message.inNew else { return lock("\(path)/cur/\(message.name)", name: base) }
        // Flags a delivery agent set already are kept; the seen flag comes once the message is stored.
        switch move("\(path)/new/\(message.name)", base: base, flags: Self.flags(of: message.name).replacingOccurrences(of: "S", with: "")) {
        case .moved(let claimed): return lock(claimed, name: String(claimed.split(separator: "/").last!.prefix { $0 != ":" }))
        case .gone: return .taken
        case .failed(let reason): return .unreadable(reason)
        }
    }

    private enum Move {
        case moved(String)
        /// Another run moved it first.
        case gone
        case failed(String)
    }

    /// Moves `file` into `cur/` under `base` and `flags`, never over another message: linked to a free name,
    /// then unlinked (a rename would silently replace a message already at that name). Where a link cannot be
    /// made (a file of another user under `fs.protected_hardlinks`, a file system without links), it is
    /// renamed to a name that was free a moment before.
    private func move(_ file: String, base: String, flags: String) -> Move {
        var source = stat()
        guard lstat(file, &source) == 0 else { return .gone }
        for attempt in 0..<1000 {
            let target = "\(path)/cur/\(base)\(attempt == 0 ? "" : ",\(attempt)"):2,\(flags)"
            if link(file, target) == 0 {
                unlink(file)
                return .moved(target)
            }
            var existing = stat()
            switch errno {
            case EEXIST:
                if lstat(target, &existing) == 0, existing.st_ino == source.st_ino, existing.st_dev == source.st_dev {
                    // The same message: another run linked it there (or a run died between link and unlink).
                    unlink(file)
                    return .gone
                }
            case ENOENT:
                return .gone
            case EPERM, EXDEV, EMLINK, EOPNOTSUPP:
                guard lstat(target, &existing) != 0 else { continue }
                if rename(file, target) == 0 { return .moved(target) }
                return errno == ENOENT ? .gone : .failed("cannot move it to cur/: \(String(cString: strerror(errno)))")
            default:
                return .failed("cannot move it to cur/: \(String(cString: strerror(errno)))")
            }
        }
        return .failed("no free name for it in cur/")
    }

    /// Reads a claimed message, at most `limit` bytes of it.
    public func read(_ claim: Claim, limit: Int) throws(AppealsError) -> (bytes: [UInt8], size: Int) {
        var info = stat()
        guard fstat(claim.descriptor, &info) == 0 else { throw .storage("cannot read \(claim.path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: min(size, limit))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(claim.descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            guard n > 0 else { throw .storage("cannot read \(claim.path): \(n == 0 ? "file shrank" : String(cString: strerror(errno)))") }
            done += n
        }
        return (bytes, size)
    }

    /// Flags a stored message seen: no run reads it again.
    public func done(_ claim: Claim) {
        let name = String(claim.path.split(separator: "/").last ?? "")
        guard let info = name.range(of: ":2,") else { return }
        // Maildir flags are kept in ASCII order.
        _ = move(claim.path, base: String(name[..<info.lowerBound]), flags: String((Self.flags(of: name) + "S").sorted()))
    }

    /// The flags after `:2,` in a Maildir name.
    static func flags(of name: String) -> String {
        guard let info = name.range(of: ":2,") else { return "" }
        return String(name[info.upperBound...])
    }

    /// Locks `file` for this run: taken when another run holds it or it moved meanwhile; unreadable when it
    /// cannot be opened or is not a regular file (a symbolic link is not followed: it could point anywhere, and
    /// the message would be kept).
    private func lock(_ file: String, name: String) -> Claimed {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: return .taken
            case ELOOP: return .unreadable("a symbolic link: not followed")
            default: return .unreadable("cannot open it: \(String(cString: strerror(errno)))")
            }
        }
        var opened = stat(), current = stat()
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return .taken
        }
        guard fstat(descriptor, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return .unreadable("not a regular file")
        }
        // Still the file at that name: not one that a finished run moved away.
        guard lstat(file, &current) == 0, opened.st_ino == current.st_ino, opened.st_dev == current.st_dev else {
            close(descriptor)
            return .taken
        }
        return .claimed(Claim(name: name, path: file, descriptor: descriptor))
    }

    /// Claimed by a run that did not finish: `:2,` info without the seen flag.
    static func isUnfinished(_ name: String) -> Bool {
        guard let info = name.range(of: ":2,") else { return false }
        return !name[info.upperBound...].contains("S")
    }

    static func entries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}
