import Crypto
import Foundation

/// One message handed to `bounces ingest`, as read from a Maildir file, an mbox or standard input.
public struct InboundMessage: Sendable {
    /// Larger messages are recorded as a problem, not read: a bounce of one of our letters is a few kilobytes.
    public static let maxBytes = 10 << 20
    /// What is kept of a message that matched no letter, for the organizer to look at.
    public static let maxKeptBytes = 1 << 20

    /// The message's bytes, at most ``maxBytes`` of them.
    public var bytes: [UInt8]
    /// Its whole size, which may exceed what was read.
    public var size: Int
    /// Where it came from: a file name, `mbox FILE #N`, `standard input`.
    public var source: String
    /// The address the mail system delivered it to, when it says (Postfix's `$ORIGINAL_RECIPIENT` for a pipe).
    public var envelopeRecipient: String?

    public init(bytes: [UInt8], size: Int? = nil, source: String, envelopeRecipient: String? = nil) {
        self.bytes = bytes
        self.size = size ?? bytes.count
        self.source = source
        self.envelopeRecipient = envelopeRecipient
    }

    /// Identifies the message: the same bounce ingested twice is recognized by it, whatever empty lines an mbox
    /// or a pipe left after its last line.
    public var sha256: Data {
        var hash = SHA256()
        if bytes.count == size {
            let content = Self.withoutTrailingEmptyLines(bytes)
            hash.update(data: Data(content))
            hash.update(data: Data("\(content.count)".utf8))
        } else {
            hash.update(data: bytes)
            hash.update(data: Data("\(size)".utf8))
        }
        return Data(hash.finalize())
    }

    /// The bytes up to the end of the last line that is not empty (with its line end).
    static func withoutTrailingEmptyLines(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var end = bytes.endIndex
        while end > 0, bytes[end - 1] == 0x0A {
            var lineStart = end - 1
            if lineStart > 0, bytes[lineStart - 1] == 0x0D { lineStart -= 1 }
            // The line ending at `end` is empty only if a line end comes right before it.
            guard lineStart > 0, bytes[lineStart - 1] == 0x0A else { break }
            end = lineStart
        }
        return bytes[..<end]
    }

    /// Why the message cannot be read as mail at all, if it cannot.
    var problem: String? {
        if size > Self.maxBytes { return "message of \(size) bytes is larger than the \(Self.maxBytes >> 20) MiB limit: not read" }
        if bytes.isEmpty { return "empty message" }
        return nil
    }
}
