import Foundation
import Synchronization
import Mustache

/// The supporter's values a template can name: the only part of a letter that changes from one
/// supporter to the next for the same target, language and date.
enum SupporterField: Int, CaseIterable {
    case name, email, city, country, countryName, language, personalNote
}

/// The values one letter is rendered with: the documented template variables, every one always present.
struct LetterValues {
    var campaign: Campaign
    var target: Target
    var language: String
    /// `date` written out in the letter's language: "18 novembre 2026".
    var date: String
    var names: LocalizedNames
    /// The supporter's values, indexed by ``SupporterField``; an absent value is empty.
    var supporter: [String]

    init(campaign: Campaign, supporter: Supporter, target: Target, language: String, date: String, names: LocalizedNames) {
        self.campaign = campaign
        self.target = target
        self.language = language
        self.date = date
        self.names = names
        self.supporter = SupporterField.allCases.map { field in
            switch field {
            case .name: supporter.name
            case .email: supporter.email ?? ""
            case .city: supporter.city ?? ""
            case .country: supporter.country ?? ""
            case .countryName: supporter.country.map { names.country($0, in: language) } ?? ""
            case .language: supporter.language ?? ""
            case .personalNote: supporter.personalNote ?? ""
            }
        }
    }

    /// Which supporter values are present, one bit per ``SupporterField``: all a template's sections can tell apart.
    var presentSupporterFields: UInt8 {
        supporter.enumerated().reduce(0) { mask, item in item.element.isEmpty ? mask : mask | 1 << item.offset }
    }

    /// The target's salutation in the letter's language, if it has one in it.
    private var salutation: String { target.salutations[language] ?? target.salutation }

    private var targetCountryName: String {
        target.country.map { names.country($0, in: language) } ?? ""
    }

    /// Every text of the context that is not the supporter's.
    var fixedTexts: [String] {
        [target.name, target.title, salutation, target.kind.rawValue, target.country ?? "", targetCountryName,
         target.postalAddress ?? "", target.fax ?? "", campaign.title, campaign.organization, campaign.summary, campaign.slug, date] + campaign.demands(in: language)
    }

    var mustacheContext: [String: Any] {
        func text(_ field: SupporterField) -> PlainText { PlainText(supporter[field.rawValue]) }
        return [
            "supporter": [
                "name": text(.name), "email": text(.email), "city": text(.city), "country": text(.country),
                "countryName": text(.countryName), "language": text(.language),
            ] as [String: Any],
            "target": [
                "name": PlainText(target.name), "title": PlainText(target.title), "salutation": PlainText(salutation),
                "kind": PlainText(target.kind.rawValue), "country": PlainText(target.country ?? ""),
                "countryName": PlainText(targetCountryName), "isEmbassy": target.kind == .embassy,
                "postalAddress": PlainText(target.postalAddress ?? ""), "fax": PlainText(target.fax ?? ""),
            ] as [String: Any],
            "campaign": [
                "title": PlainText(campaign.title), "organization": PlainText(campaign.organization),
                "summary": PlainText(campaign.summary), "slug": PlainText(campaign.slug),
                "demands": campaign.demands(in: language).map(PlainText.init),
            ] as [String: Any],
            "personalNote": text(.personalNote),
            "date": PlainText(date),
        ]
    }
}

/// Dates and country names in each language, computed once: a formatter or a locale per letter would
/// cost more than rendering the letter.
final class LocalizedNames: Sendable {
    private let countries = Mutex<[String: String]>([:])
    private let dates = Mutex<[String: String]>([:])

    func country(_ code: String, in language: String) -> String {
        let key = language + "|" + code
        if let name = countries.withLock({ $0[key] }) { return name }
        let name = CountryCode.name(of: code, in: language)
        countries.withLock { $0[key] = name }
        return name
    }

    func date(_ date: Date, in language: String, timeZone: TimeZone) -> String {
        let key = "\(language)|\(timeZone.identifier)|\(Int(date.timeIntervalSince1970 / 60))"
        if let text = dates.withLock({ $0[key] }) { return text }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language)
        formatter.timeZone = timeZone
        formatter.dateStyle = .long
        formatter.timeStyle = .none
        let text = formatter.string(from: date)
        dates.withLock { $0[key] = text }
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
