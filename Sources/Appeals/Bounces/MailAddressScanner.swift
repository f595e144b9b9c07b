/// Finds email addresses in free text: headers, diagnostics and the prose of plain-text bounces.
enum MailAddressScanner {
    /// Every address in `text`, in order, as written (angle brackets and trailing dots removed).
    static func addresses(in text: String) -> [String] {
        // Only words with an `@`, each bounded: the pattern never runs over long stretches without one.
        text.split(whereSeparator: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == ";" || $0 == "(" || $0 == ")" || $0 == "\"" })
            .filter { $0.count <= 320 && $0.contains("@") }
            .flatMap { addresses(inWord: String($0)) }
    }

    private static func addresses(inWord text: String) -> [String] {
        text.matches(of: /[A-Za-z0-9!#$%&'*+\/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/)
            .map { String($0.output).trimmingCharacters(in: CharacterSet(charactersIn: ".'`")).replacing(/^(?i)(smtp|rfc822)[=:]/, with: "") }
            .filter { address in
                guard let at = address.lastIndex(of: "@") else { return false }
                let domain = address[address.index(after: at)...]
                // A top-level domain is letters: "x@1.2.3.4" and Message-ID-like "1234@host" without one are not addresses.
                return domain.split(separator: ".").last.map { $0.count >= 2 && $0.allSatisfy(\.isLetter) } ?? false
                    && !address.hasPrefix(".") && !address[..<at].contains("..") && !address[..<at].hasSuffix(".")
            }
    }
}

import Foundation
