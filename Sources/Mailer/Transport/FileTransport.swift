import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes each message as `<Message-ID>.eml` into a folder: the demo transport.
///
/// Each file appears whole or not at all (temporary file, fsync, rename) and is readable by its owner only.
public struct FileTransport: MailTransport {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    public func makeSession() -> any MailSession { Session(folder: folder) }

    /// Deletes the messages with these Message-IDs from the folder (an erased supporter's letters).
    /// - Returns: how many files were deleted.
    public func removeMessages(_ messageIds: [String]) -> Int {
        messageIds.reduce(0) { count, id in
            unlink("\(folder)/\(Self.fileName(for: id))") == 0 ? count + 1 : count
        }
    }

    /// The file name for a Message-ID: its text without the angle brackets, `/` made safe.
    public static func fileName(for messageID: String) -> String {
        let bare = messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
        return bare.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\0", with: "") + ".eml"
    }

    final class Session: MailSession {
        let folder: String
        init(folder: String) { self.folder = folder }

        func deliver(_ message: [UInt8], envelope: Envelope) -> TransportReply {
            guard let messageID = Self.messageID(in: message) else {
                return TransportReply(.permanent, code: 554, text: "message has no Message-ID")
            }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let final = "\(folder)/\(FileTransport.fileName(for: messageID))"
                let temporary = "\(folder)/.\(UUID().uuidString).tmp"
                let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                var written = 0
                let ok = message.withUnsafeBytes { buffer -> Bool in
                    while written < buffer.count {
                        let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                        if n <= 0 { return false }
                        written += n
                    }
                    return fsync(fd) == 0
                }
                let writeErrno = errno
                Glibc.close(fd)
                guard ok, rename(temporary, final) == 0 else {
                    unlink(temporary)
                    throw POSIXError(POSIXErrorCode(rawValue: ok ? errno : writeErrno) ?? .EIO)
                }
                return TransportReply(.accepted, code: 250, text: "250 written to \(final)")
            } catch {
                // A full disk or a read-only folder will not mend itself within this run.
                return TransportReply(.stopRun(.configuration), code: nil, text: "cannot write to \(folder): \(error.localizedDescription)")
            }
        }

        func close() {}

        static func messageID(in message: [UInt8]) -> String? {
            let head = String(decoding: message.prefix(8192), as: UTF8.self)
            for line in head.components(separatedBy: "\r\n") {
                if line.isEmpty { return nil }
                if line.lowercased().hasPrefix("message-id:") {
                    return String(line.dropFirst("message-id:".count)).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }
}

extension FileTransport: CustomStringConvertible {
    public var description: String { "files in \(folder)" }
}
