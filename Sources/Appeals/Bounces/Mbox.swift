import Foundation

/// The messages of an mbox file: each starts with a `From ` line at the start of the file or after an empty
/// line; `>From ` lines (mboxrd quoting) lose one `>`.
public enum Mbox {
    /// - Throws: ``AppealsError/invalidInput(_:)`` when the file cannot be read.
    public static func messages(in path: String) throws(AppealsError) -> [(bytes: [UInt8], size: Int)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid(InputLocation(file: path, field: "--mbox"), "cannot read the file")
        }
        var messages: [[UInt8]] = []
        var current: [UInt8] = []
        var previousBlank = true, started = false
        for line in MailText.lines(of: [UInt8](data)[...], keepingEnds: true) {
            if previousBlank && line.starts(with: Array("From ".utf8)) {
                if started { messages.append(current) }
                current = []
                started = true
                previousBlank = false
                continue
            }
            guard started else {
                // Text before the first "From " line: not an mbox message.
                previousBlank = line.allSatisfy { $0 == 0x0A || $0 == 0x0D }
                continue
            }
            var line = Array(line)
            if line.first == 0x3E, line.drop(while: { $0 == 0x3E }).starts(with: Array("From ".utf8)) { line.removeFirst() }
            previousBlank = line.allSatisfy { $0 == 0x0A || $0 == 0x0D }
            current += line
        }
        if started { messages.append(current) }
        return messages.map { message in
            // The empty line before the next "From " belongs to the mbox, not the message.
            var bytes = message
            if bytes.last == 0x0A { bytes.removeLast(); if bytes.last == 0x0D { bytes.removeLast() } }
            return (Array(bytes.prefix(InboundMessage.maxBytes)), bytes.count)
        }
    }
}
