import Foundation

extension Supporter {
    public static let csvColumns = ["name", "email", "country", "city", "language", "consent", "personal_note"]
    public static let csvRequiredColumns = ["name", "email"]
    public static let maxNoteLength = 2000

    /// A supporter read from a CSV row, with the line it came from.
    struct Parsed {
        var line: Int
        var supporter: Supporter
    }

    /// Reads supporters from a CSV table.
    /// - Returns: the valid rows, and every problem found.
    static func parse(_ table: CSVTable, campaignId: Int64, now: Date) -> (supporters: [Parsed], issues: [InputIssue]) {
        var supporters: [Parsed] = []
        var issues: [InputIssue] = []
        for row in table.rows {
            var check = RowChecker(row, file: table.file)
            let name = check.text("name", required: true)
            let email = check.email("email")
            let country = check.country("country")
            let city = check.text("city")
            let language = check.language("language")
            let consent = parseConsent(row["consent"])
            if consent == .invalid {
                check.fail("consent", "\"\(row["consent"])\" is not yes or no")
            }
            let note = check.paragraph("personal_note", maxLength: maxNoteLength)
            issues += check.issues
            guard check.issues.isEmpty else { continue }
            let supporter = Supporter(
                id: nil, campaignId: campaignId, name: name, email: email, emailKey: EmailAddress.key(email),
                country: country, city: city.isEmpty ? nil : city, language: language, consent: consent.value,
                personalNote: note, createdAt: now, erasedAt: nil)
            supporters.append(Parsed(line: row.line, supporter: supporter))
        }
        return (supporters, issues)
    }

    enum Consent: Equatable {
        case unknown, given, refused, invalid
        var value: Bool? {
            switch self {
            case .given: true
            case .refused: false
            case .unknown, .invalid: nil
            }
        }
    }

    static func parseConsent(_ text: String) -> Consent {
        switch text.lowercased() {
        case "": .unknown
        case "yes", "y", "true", "1", "oui": .given
        case "no", "n", "false", "0", "non": .refused
        default: .invalid
        }
    }
}
