import Foundation

/// What a supporter typed into the campaign page's form, checked by the same rules as a row of a supporters file.
public struct SupporterForm: Sendable, Equatable {
    public var name = ""
    public var email = ""
    /// ISO 3166-1 alpha-2, or empty.
    public var country = ""
    public var city = ""
    public var language = ""
    public var personalNote = ""
    public var consent = false

    public init() {}

    /// The supporter these values describe, or the problems by form field (`name`, `email`, `country`, …).
    public func supporter(campaignId: Int64, now: Date) -> Result<Supporter, InputIssues> {
        var values = ["name": name, "email": email, "country": country, "city": city, "language": language,
                      "personal_note": personalNote]
        values["consent"] = consent ? "yes" : ""
        let noConsent = InputIssue(InputLocation(file: "form", field: "consent"), "tick the box to send letters in your name")
        // Every problem at once, the missing consent among them.
        switch Supporter.parse(CSVTable.Row(line: 0, values: values), file: "form", campaignId: campaignId, now: now) {
        case .failure(let problems):
            return .failure(InputIssues(problems.issues + (consent ? [] : [noConsent])))
        case .success(var supporter):
            guard consent else { return .failure(InputIssues([noConsent])) }
            supporter.consent = true
            return .success(supporter)
        }
    }
}
