import Foundation

/// Validation of the plain `local@domain` addresses letters are sent to and from.
///
/// Deliberately narrower than RFC 5321: no quoted local parts, no address literals, ASCII only.
/// Anything that could smuggle a second recipient or header (spaces, commas, angle brackets,
/// CR, LF, NUL) is refused here, before it ever reaches a message or an SMTP envelope.
public enum EmailAddress {
    /// ASCII characters allowed, as tables indexed by code: a set lookup per character cost more than a message.
    private static let localCharacters = table("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.")
    private static let domainCharacters = table("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

    private static func table(_ characters: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 128)
        for byte in characters.utf8 { table[Int(byte)] = true }
        return table
    }

    private static func allowed(_ part: Substring, by table: [Bool]) -> Bool {
        part.utf8.allSatisfy { $0 < 128 && table[Int($0)] }
    }

    /// The comparison key: trimmed and lower-cased.
    public static func key(_ address: String) -> String {
        address.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Why `address` is not acceptable, or `nil` when it is.
    public static func problem(with address: String) -> String? {
        let scalars = address.unicodeScalars
        if address.isEmpty { return "is empty" }
        if scalars.count > 254 { return "is longer than 254 characters" }
        if scalars.contains(where: { !$0.isASCII }) { return "\"\(address)\" has non-ASCII characters, which are not supported" }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "\"\(address)\" is not an address of the form name@domain" }
        let local = parts[0], domain = parts[1]
        if local.isEmpty || local.unicodeScalars.count > 64 || local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..")
            || !allowed(local, by: localCharacters)
        {
            return "\"\(address)\" has an invalid part before the @"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelsValid = labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && allowed(label, by: domainCharacters)
        }
        guard labels.count >= 2, labelsValid, let tld = labels.last, !tld.allSatisfy(\.isNumber) else {
            return "\"\(address)\" has an invalid domain"
        }
        return nil
    }
}

