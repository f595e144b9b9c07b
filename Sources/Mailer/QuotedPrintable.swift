/// RFC 2045 quoted-printable for UTF-8 text, with CRLF line ends.
enum QuotedPrintable {
    static let maxLineLength = 76
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes `text`; every line break (CRLF, LF or CR) becomes CRLF, and the result ends with exactly one.
    ///
    /// Beyond what RFC 2045 requires, a `.` or `From ` at the start of a line is encoded too, so no
    /// relay's dot-stuffing or mbox quoting can alter the letter. Works on bytes: this runs once per letter sent.
    static func encode(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
            var lineStart = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x0A || byte == 0x0D else {
                    index += 1
                    continue
                }
                encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<index]), into: &output)
                output.append(0x0D)
                output.append(0x0A)
                // CRLF is one line break.
                index += byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
                lineStart = index
            }
            if lineStart < bytes.count || output.isEmpty {
                encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart...]), into: &output)
                output.append(0x0D)
                output.append(0x0A)
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    private static func encodeLine(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let startsWithFrom = bytes.count >= 5 && bytes[0] == 0x46 && bytes[1] == 0x72 && bytes[2] == 0x6F && bytes[3] == 0x6D && bytes[4] == 0x20
        let last = bytes.count - 1
        var column = 0
        for index in bytes.indices {
            let byte = bytes[index]
            let isLast = index == last
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
                output.append(0x3D)
                output.append(0x0D)
                output.append(0x0A)
                column = 0
            }
            if literal {
                output.append(byte)
            } else {
                output.append(0x3D)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
            column += width
        }
    }
}
