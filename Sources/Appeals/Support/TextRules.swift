import Foundation

/// Checks shared by every user-supplied text value.
enum TextRules {
    /// Why a one-line value (a name, a city, a title) is unacceptable, or `nil`.
    ///
    /// Control characters are refused: a CR or LF in a name must never reach a header.
    static func singleLineProblem(_ value: String, maxLength: Int = 200) -> String? {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "contains a line break or control character"
        }
        if value.count > maxLength { return "is longer than \(maxLength) characters" }
        return nil
    }

    /// Why a paragraph (a personal note, a postal address) is unacceptable, or `nil`. Line breaks are allowed.
    static func paragraphProblem(_ value: String, maxLength: Int) -> String? {
        let allowed: Set<Unicode.Scalar> = ["\n", "\t"]
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !allowed.contains($0) }) {
            return "contains a control character"
        }
        if value.count > maxLength { return "is longer than \(maxLength) characters" }
        return nil
    }

    /// Line endings folded to LF, outer white space trimmed.
    static func normalizedParagraph(_ value: String) -> String {
        value.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A BCP 47-style language tag such as `en`, `fr`, `pt-BR`, lower-cased primary subtag; `nil` if malformed.
    static func normalizedLanguage(_ value: String) -> String? {
        let parts = value.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-").split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count), primary.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        let rest = parts.dropFirst()
        guard rest.allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }) else { return nil }
        // BCP 47's case conventions, so that `pt-br`, `pt_BR` and `pt-BR` are one language: region upper case,
        // script title case, the rest lower case.
        let subtags = rest.map { tag -> String in
            switch tag.count {
            case 2: tag.uppercased()
            case 4: tag.prefix(1).uppercased() + tag.dropFirst().lowercased()
            default: tag.lowercased()
            }
        }
        return ([primary.lowercased()] + subtags).joined(separator: "-")
    }
}
