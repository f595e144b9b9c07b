import Foundation

extension Supporter {
    public static let csvColumns = ["name", "email", "country", "city", "language", "consent", "personal_note"]
    public static let csvRequiredColumns = ["name", "email"]
    public static let maxNoteLength = 2000

    /// Reads one supporter from a CSV row.
    /// - Returns: the supporter, or every problem of the row.
    static func parse(_ row: CSVTable.Row, file: String, campaignId: Int64, now: Date) -> Result<Supporter, InputIssues> {
        var check = RowChecker(row, file: file)
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
        guard check.issues.isEmpty else { return .failure(InputIssues(check.issues)) }
        return .success(Supporter(
            id: nil, campaignId: campaignId, name: name, email: email, emailKey: EmailAddress.key(email),
            country: country, city: city.isEmpty ? nil : city, language: language, consent: consent.value,
            personalNote: note, createdAt: now, erasedAt: nil))
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
