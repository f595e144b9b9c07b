import Foundation

/// RFC 5322 header values: folding, quoted display names, RFC 2047 encoded-words.
enum HeaderEncoding {
    static let maxLineLength = 78

    /// Any control character in a user-supplied value becomes a space: a CR or LF can never start a new header.
    static func sanitized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        return String(scalars).split(whereSeparator: { $0 == " " }).joined(separator: " ")
    }

    /// `"Name" <addr>` for ASCII names, encoded-words for the others, a bare `<addr>` for none.
    static func mailbox(_ mailbox: MailAddress) -> [String] {
        guard let raw = mailbox.name.map(sanitized), !raw.isEmpty else { return ["<\(mailbox.address)>"] }
        if raw.unicodeScalars.allSatisfy({ $0.isASCII }) {
            let escaped = raw.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ["\"\(escaped)\"", "<\(mailbox.address)>"]
        }
        return encodedWords(raw) + ["<\(mailbox.address)>"]
    }

    /// Unstructured text (a subject): its words as they are when ASCII, else RFC 2047 encoded-words.
    static func unstructured(_ text: String) -> [String] {
        let clean = sanitized(text)
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) && !clean.contains("=?") {
            return clean.split(separator: " ").map(String.init)
        }
        return encodedWords(clean)
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters, never splitting a character's bytes.
    static func encodedWords(_ text: String) -> [String] {
        let prefix = "=?UTF-8?B?", suffix = "?="
        // 75 - 12 characters of framing leave 63 of base64: 45 bytes of UTF-8 at most.
        let maxBytes = 45
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maxBytes && !chunk.isEmpty {
                words.append(prefix + Data(chunk).base64EncodedString() + suffix)
                chunk.removeAll()
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(prefix + Data(chunk).base64EncodedString() + suffix) }
        return words
    }

    /// `Name: token token …`, folded before a token wherever the line would pass 78 characters.
    static func fold(_ name: String, _ tokens: [String]) -> String {
        var lines: [String] = []
        var line = name + ":"
        for token in tokens {
            if line.count + 1 + token.count > maxLineLength && line.count > name.count + 1 {
                lines.append(line)
                line = ""
            }
            line += " " + token
        }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }
}
