import Foundation

/// A Maildir that bounces are delivered to. `bounces ingest --maildir` takes each message from `new/` to
/// `cur/` and flags it seen (`:2,S`) once it is stored, so that a rerun, or a run beside it, reads each once.
///
/// A message is claimed by renaming it into `cur/` without the flag, and held with a `flock` while it is read:
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
        /// Not a regular file (a folder, a symbolic link…): never read, and said so.
        public var isOdd: Bool
    }

    /// The messages waiting, oldest name first: new ones, and claimed ones whose run died.
    public func waiting() -> [Waiting] {
        func waiting(_ name: String, inNew: Bool) -> Waiting {
            var info = stat()
            let regular = lstat("\(path)/\(inNew ? "new" : "cur")/\(name)", &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            return Waiting(name: name, inNew: inNew, isOdd: !regular)
        }
        return Self.entries(in: "\(path)/new").map { waiting($0, inNew: true) }
            + Self.entries(in: "\(path)/cur").filter(Self.isUnfinished).map { waiting($0, inNew: false) }
    }

    /// Takes a waiting message for this run, locked; nil when another run took it first.
    public func claim(_ message: Waiting) -> Claim? {
        guard message.inNew else {
            return lock("\(path)/cur/\(message.name)", name: String(message.name.prefix { $0 != ":" }))
        }
        let base = String(message.name.prefix { $0 != ":" })
        // Flags a delivery agent set already are kept; the seen flag comes once the message is stored.
        let claimed = "\(path)/cur/\(base):2,\(Self.flags(of: message.name).replacingOccurrences(of: "S", with: ""))"
        // Only one run's rename succeeds; the others find the file gone.
        guard rename("\(path)/new/\(message.name)", claimed) == 0 else { return nil }
        return lock(claimed, name: base)
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
        let flags = String((Self.flags(of: name) + "S").sorted())
        rename(claim.path, "\(path)/cur/\(name[..<info.lowerBound]):2,\(flags)")
    }

    /// The flags after `:2,` in a Maildir name.
    static func flags(of name: String) -> String {
        guard let info = name.range(of: ":2,") else { return "" }
        return String(name[info.upperBound...])
    }

    /// Locks `file` for this run; nil when another run holds it or it moved meanwhile, or when it is not a
    /// regular file (a symbolic link is not followed: it could point anywhere, and the message would be kept).
    private func lock(_ file: String, name: String) -> Claim? {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        var opened = stat(), current = stat()
        // Locked by this run, and still the file at that name: not one that a finished run renamed away.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fstat(descriptor, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG,
              lstat(file, &current) == 0, opened.st_ino == current.st_ino, opened.st_dev == current.st_dev else {
            close(descriptor)
            return nil
        }
        return Claim(name: name, path: file, descriptor: descriptor)
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
