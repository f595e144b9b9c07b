import Foundation
import Mustache

/// The values one letter is rendered with: SPEC's template variables, every one always present.
struct LetterValues {
    var campaign: Campaign
    var supporter: Supporter
    var target: Target
    var language: String
    /// `date` written out in the letter's language: "18 novembre 2026".
    var date: String
    var names: LocalizedNames

    var mustacheContext: [String: Any] {
        func text(_ value: String?) -> PlainText { PlainText(value ?? "") }
        let countryName = { (code: String?) in code.map { names.country($0, in: language) } }
        return [
            "supporter": [
                "name": text(supporter.name), "email": text(supporter.email), "city": text(supporter.city),
                "country": text(supporter.country), "countryName": text(countryName(supporter.country)),
                "language": text(supporter.language),
            ] as [String: Any],
            "target": [
                "name": text(target.name), "title": text(target.title), "salutation": text(target.salutation),
                "kind": text(target.kind.rawValue), "country": text(target.country),
                "countryName": text(countryName(target.country)), "isEmbassy": target.kind == .embassy,
            ] as [String: Any],
            "campaign": [
                "title": text(campaign.title), "organization": text(campaign.organization), "summary": text(campaign.summary),
                "slug": text(campaign.slug), "demands": campaign.demands.map(PlainText.init),
            ] as [String: Any],
            "personalNote": text(supporter.personalNote),
            "date": text(date),
        ]
    }
}

/// Dates and country names in each language, computed once: a formatter or a locale per letter would
/// cost more than rendering the letter.
final class LocalizedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var countries: [String: String] = [:]
    private var dates: [String: String] = [:]

    func country(_ code: String, in language: String) -> String {
        let key = language + "|" + code
        if let name = lock.withLock({ countries[key] }) { return name }
        let name = CountryCode.name(of: code, in: language)
        lock.withLock { countries[key] = name }
        return name
    }

    func date(_ date: Date, in language: String, timeZone: TimeZone) -> String {
        let key = "\(language)|\(timeZone.identifier)|\(Int(date.timeIntervalSince1970 / 60))"
        if let text = lock.withLock({ dates[key] }) { return text }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language)
        formatter.timeZone = timeZone
        formatter.dateStyle = .long
        formatter.timeStyle = .none
        let text = formatter.string(from: date)
        lock.withLock { dates[key] = text }
        return text
    }
}

/// A string value that is "false" in a section when empty, so `{{#personalNote}}…{{/personalNote}}`
/// disappears for a supporter without a note (a plain `String` would render the section anyway).
struct PlainText: MustacheCustomRenderable, CustomStringConvertible {
    let value: String
    init(_ value: String) { self.value = value }
    var renderText: String { value }
    var isNull: Bool { value.isEmpty }
    var description: String { value }
}
