import Foundation

/// Decoding what received messages carry: lines, transfer encodings, charsets and RFC 2047 encoded words.
public enum MailText {
    /// The lines of `bytes`, split at LF; without their ends (LF and a CR before it) unless `keepingEnds`.
    static func lines(of bytes: ArraySlice<UInt8>, keepingEnds: Bool = false) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                if keepingEnds {
                    lines.append(bytes[start...index])
                } else {
                    let end = index > start && bytes[index - 1] == 0x0D ? index - 1 : index
                    lines.append(bytes[start..<end])
                }
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex { lines.append(bytes[start...]) }
        return lines
    }

    /// `text` with control characters (a terminal's escape sequences, carriage returns) and bidirectional
    /// controls replaced by `�`: what a stranger's message says is stored and shown only so.
    public static func printable(_ text: String, keepingLineEnds: Bool = true) -> String {
        func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.generalCategory == .control && scalar != "\t" && !(keepingLineEnds && scalar == "\n")
                || scalar.properties.isBidiControl
        }
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isUnsafe($0) ? "\u{FFFD}" : $0 }))
    }

    /// Text from bytes in `charset`; UTF-8 is tried first, as many messages lie about their charset.
    static func decode(_ bytes: [UInt8], charset: String?) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        switch charset?.lowercased() {
        case "windows-1252", "cp1252": if let text = String(bytes: bytes, encoding: .windowsCP1252) { return text }
        case "iso-8859-2", "latin2": if let text = String(bytes: bytes, encoding: .isoLatin2) { return text }
        default: break
        }
        // Every byte is a Latin-1 character: the address and code bytes survive whatever the charset.
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    static func base64Decoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        let alphabet = bytes.filter { $0 == 0x2B || $0 == 0x2F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        var padded = alphabet
        let remainder = padded.count % 4
        if remainder == 1 { padded.removeLast() } else if remainder > 1 { padded += Array(repeating: 0x3D, count: 4 - remainder) }
        return Data(base64Encoded: Data(padded)).map { Array($0) } ?? []
    }

    static func quotedPrintableDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == 0x3D else {
                output.append(byte)
                index += 1
                continue
            }
            let next = bytes.index(after: index)
            if next < bytes.endIndex, bytes[next] == 0x0A {
                index = next + 1
            } else if next + 1 < bytes.endIndex, bytes[next] == 0x0D, bytes[next + 1] == 0x0A {
                index = next + 2
            } else if next + 1 < bytes.endIndex, let high = hexValue(bytes[next]), let low = hexValue(bytes[next + 1]) {
                output.append(high << 4 | low)
                index = next + 2
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Splits a structured field at `;` outside quotes.
    static func splitParameters(_ value: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped {
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                pieces.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        pieces.append(current)
        return pieces
    }

    /// The RFC 2047 encoded words (`=?charset?B|Q?text?=`) of a header value: where each is, its charset, and the
    /// bytes it carries before the charset is applied.
    static func encodedWords(in value: String) -> [(range: Range<String.Index>, charset: String, bytes: [UInt8])] {
        guard value.contains("=?") else { return [] }
        return value.matches(of: /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/).map { match in
            let payload = Array(match.output.3.utf8)
            let bytes = match.output.2.lowercased() == "b"
                ? base64Decoded(payload[...])
                : quotedPrintableDecoded(payload.map { $0 == 0x5F ? 0x20 : $0 }[...])
            return (match.range, String(match.output.1), bytes)
        }
    }

    /// A header value with its RFC 2047 encoded words decoded.
    static func decodeEncodedWords(_ value: String) -> String {
        var result = ""
        var rest = value.startIndex
        var lastWasWord = false
        for word in encodedWords(in: value) {
            let between = value[rest..<word.range.lowerBound]
            // White space between two encoded words is not part of the text.
            if !(lastWasWord && between.allSatisfy(\.isWhitespace)) { result += between }
            result += decode(word.bytes, charset: word.charset)
            rest = word.range.upperBound
            lastWasWord = true
        }
        return result + value[rest...]
    }
}
