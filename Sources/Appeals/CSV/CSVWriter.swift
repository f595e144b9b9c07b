/// Writes RFC 4180 CSV: fields with commas, quotes or line breaks are quoted, quotes doubled, CRLF line ends.
///
/// Works on Unicode scalars, not Characters: `"\r\n"` is one Character, and so is a quote followed by a
/// combining accent, and neither compares equal to the bytes the reader looks for.
public enum CSVWriter {
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        let scalars = value.unicodeScalars
        // A leading U+FEFF would be read back as a byte-order mark: quoted, it stays data.
        guard scalars.first == "\u{FEFF}" || scalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return value
        }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in scalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
    }
}
