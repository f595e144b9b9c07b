import Foundation

/// RFC 5322 header values: folding, quoted display names, RFC 2047 encoded-words.
enum HeaderEncoding {
    static let maxLineLength = 78

    /// Any control character in a user-supplied value becomes a space: a CR or LF can never start a new header.
    static func sanitized(_ text: String) -> String {
        isSanitized(text) ? text : sanitizedByScalars(text)
    }

    static func sanitizedByScalars(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        return String(scalars).split(whereSeparator: { $0 == " " }).joined(separator: " ")
    }

    /// Whether ``sanitized(_:)`` would leave `text` as it is, told from its bytes: no control character (C0,
    /// DEL, or C1 as `C2 80`…`C2 9F`), and single spaces between words only. Most values are.
    static func isSanitized(_ text: String) -> Bool {
        var previous: UInt8 = 0x20
        for byte in text.utf8 {
            switch byte {
            case 0x00...0x1F, 0x7F: return false
            case 0x80...0x9F where previous == 0xC2: return false
            case 0x20 where previous == 0x20: return false
            default: previous = byte
            }
        }
        return previous != 0x20 || text.isEmpty
    }

    /// `"Name" <addr>` for ASCII names, a phrase with encoded-words for the others, a bare `<addr>` for none.
    static func mailbox(_ mailbox: MailAddress) -> [String] {
        guard let raw = mailbox.name.map(sanitized), !raw.isEmpty else { return ["<\(mailbox.address)>"] }
        return phrase(raw) + ["<\(mailbox.address)>"]
    }

    /// A display name as RFC 5322 phrase tokens.
    ///
    /// Decoders disagree on the white space between two adjacent encoded-words in a phrase (RFC 2047
    /// says drop it; Python's email package keeps it), so adjacent encoded-words are avoided: plain ASCII
    /// words stay atoms or quoted-strings, and each run of other words becomes one encoded-word with its
    /// spaces inside. Only a run too long for one encoded-word is split, and then by RFC 2047's rule.
    static func phrase(_ text: String) -> [String] {
        if isPlainASCII(text) { return [quoted(text)] }
        var tokens: [String] = []
        var run: [Substring] = []
        func flushRun() {
            if !run.isEmpty { tokens += encodedWords(run.joined(separator: " ")) }
            run.removeAll()
        }
        for word in text.split(separator: " ") {
            if isPlainASCII(word) {
                flushRun()
                tokens.append(word.allSatisfy(isAtomCharacter) ? String(word) : quoted(String(word)))
            } else {
                run.append(word)
            }
        }
        flushRun()
        return tokens
    }

    /// ASCII text that can stand as it is: no encoded-word look-alike, and no word too long to fold under 78 columns.
    private static func isPlainASCII<Text: StringProtocol>(_ text: Text) -> Bool {
        var previous: UInt8 = 0
        var wordLength = 0
        for byte in text.utf8 {
            if byte >= 0x80 || (previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?")) { return false }
            wordLength = byte == 0x20 ? 0 : wordLength + 1
            if wordLength > 60 { return false }
            previous = byte
        }
        return true
    }

    private static func isAtomCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "!#$%&'*+-/=?^_`{|}~".contains(character))
    }

    private static func quoted(_ text: String) -> String {
        // By bytes: Foundation's replacingOccurrences cost more than the rest of the header.
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            if byte == 0x5C || byte == 0x22 { bytes.append(0x5C) }
            bytes.append(byte)
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Unstructured text (a subject): its words as they are when ASCII, else RFC 2047 encoded-words.
    static func unstructured(_ text: String) -> [String] {
        let clean = sanitized(text)
        if isPlainASCII(clean) {
            return clean.split(separator: " ").map(String.init)
        }
        return encodedWords(clean)
    }

    /// `=?UTF-8?B?…?=` words of 64 characters at most, so that even `Reply-To: ` and one word fit in 78
    /// columns; a character's bytes are never split between words.
    static func encodedWords(_ text: String) -> [String] {
        let prefix = "=?UTF-8?B?", suffix = "?="
        let maxBytes = 39  // 52 characters of base64
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = character.utf8
            if chunk.count + bytes.count > maxBytes && !chunk.isEmpty {
                words.append(prefix + Data(chunk).base64EncodedString() + suffix)
                chunk.removeAll(keepingCapacity: true)
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty { words.append(prefix + Data(chunk).base64EncodedString() + suffix) }
        return words
    }

    /// `Name: token token …`, folded before a token wherever the line would pass 78 characters.
    static func fold(_ name: String, _ tokens: [String]) -> String {
        // Lengths in bytes: headers are ASCII once encoded, and String.count walks grapheme clusters.
        var lines: [String] = []
        var line = name + ":"
        var length = line.utf8.count
        for token in tokens {
            let tokenLength = token.utf8.count
            if length + 1 + tokenLength > maxLineLength && length > name.utf8.count + 1 {
                lines.append(line)
                line = ""
                length = 0
            }
            line += " " + token
            length += 1 + tokenLength
        }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }
}
