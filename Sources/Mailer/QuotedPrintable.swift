/// RFC 2045 quoted-printable for UTF-8 text, with CRLF line ends.
enum QuotedPrintable {
    static let maxLineLength = 76

    /// Encodes `text`; every line break becomes CRLF, and the result ends with exactly one.
    ///
    /// Beyond what RFC 2045 requires, a `.` or `From ` at the start of a line is encoded too, so no
    /// relay's dot-stuffing or mbox quoting can alter the letter.
    static func encode(_ text: String) -> String {
        var normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        return normalized.split(separator: "\n", omittingEmptySubsequences: false)
            .map { encodeLine(Array($0.utf8)) }
            .joined(separator: "\r\n") + "\r\n"
    }

    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var output: [String] = []
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            var token: String
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                token = isLast ? hex(byte) : String(UnicodeScalar(byte))
            case UInt8(ascii: "="):
                token = hex(byte)
            case 33...126:
                token = String(UnicodeScalar(byte))
            default:
                token = hex(byte)
            }
            if index == 0 && byte == UInt8(ascii: ".") { token = hex(byte) }
            if index == 0 && bytes.starts(with: Array("From ".utf8)) { token = hex(byte) }
            // Leave room for the soft break's "=".
            if current.count + token.count > maxLineLength - 1 {
                output.append(current + "=")
                current = ""
            }
            current += token
        }
        output.append(current)
        return output.joined(separator: "\r\n")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
