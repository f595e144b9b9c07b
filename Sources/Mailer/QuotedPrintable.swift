/// RFC 2045 quoted-printable for UTF-8 text, with CRLF line ends.
enum QuotedPrintable {
    static let maxLineLength = 76
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes `text`; every line break (CRLF, LF or CR) becomes CRLF, and the result ends with exactly one.
    ///
    /// Beyond what RFC 2045 requires, a `.` or `From ` at the start of a line is encoded too, so no
    /// relay's dot-stuffing or mbox quoting can alter the letter. Works on bytes: this runs once per letter sent.
    static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 8 + 16)
        var line: [UInt8] = []
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == 0x0A && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                encodeLine(line, into: &output)
                output += [0x0D, 0x0A]
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
            }
        }
        if !line.isEmpty {
            encodeLine(line, into: &output)
            output += [0x0D, 0x0A]
        }
        if output.isEmpty { output = [0x0D, 0x0A] }
        return String(decoding: output, as: UTF8.self)
    }

    private static func encodeLine(_ bytes: [UInt8], into output: inout [UInt8]) {
        let startsWithFrom = bytes.starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20])  // "From "
        var column = 0
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let literal: Bool
            switch byte {
            case 0x20, 0x09: literal = !isLast
            case 0x3D: literal = false
            case 33...126: literal = !(index == 0 && (byte == 0x2E || startsWithFrom))
            default: literal = false
            }
            let width = literal ? 1 : 3
            // Leave room for the soft break's "=".
            if column + width > maxLineLength - 1 {
                output += [0x3D, 0x0D, 0x0A]
                column = 0
            }
            if literal {
                output.append(byte)
            } else {
                output += [0x3D, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
            column += width
        }
    }
}
