import Foundation

/// ISO 3166-1 alpha-2 country codes, taken from the ICU data Foundation carries.
public enum CountryCode {
    /// ICU lists some regions that are not ISO 3166-1 assignments (continents, the EU, user-assigned codes).
    private static let notISO: Set<String> = ["AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN", "QO", "XA", "XB", "XK", "ZZ"]

    public static let all: Set<String> = Set(
        Locale.Region.isoRegions.map(\.identifier).filter { code in
            code.count == 2 && code.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isUppercase } && !notISO.contains(code)
        }
    )

    /// The upper-cased code when `text` is a known ISO 3166-1 alpha-2 code, else `nil`.
    public static func normalize(_ text: String) -> String? {
        let code = text.trimmingCharacters(in: .whitespaces).uppercased()
        return all.contains(code) ? code : nil
    }

    /// The country's name written in `language` ("Azerbaïdjan" in French).
    public static func name(of code: String, in language: String) -> String {
        Locale(identifier: language).localizedString(forRegionCode: code) ?? code
    }
}
