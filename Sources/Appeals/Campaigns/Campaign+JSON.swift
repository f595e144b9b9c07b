import Foundation

extension Campaign {
    /// Reads and checks `campaign.json`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every missing, mistyped, unknown or invalid key.
    static func fromJSON(_ data: Data, file: String, now: Date) throws(AppealsError) -> Campaign {
        var json = try JSONObjectReader(file: file, data: data)
        let slug = json.string("slug", required: true) ?? ""
        if !slug.isEmpty && (slug.count > 64 || !slug.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })) {
            json.fail("slug", "\"\(slug)\" must be 1 to 64 characters of a-z, 0-9 and -")
        }
        let title = json.string("title", required: true) ?? ""
        let organization = json.string("organization", required: true) ?? ""
        let summary = json.string("summary") ?? ""
        for (key, value) in [("title", title), ("organization", organization)] {
            if let problem = TextRules.singleLineProblem(value, maxLength: 300) { json.fail(key, problem) }
        }
        // A list (one for every language) or an object of lists by language; checked against `languages` below.
        let demandsByLanguage = json.stringLists("demands", required: true) ?? [:]
        for demand in demandsByLanguage.values.joined() where demand.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            json.fail("demands", "a demand is empty")
            break
        }
        let languageTags = json.strings("languages", required: true) ?? []
        var languages: [String] = []
        for tag in languageTags {
            if let language = TextRules.normalizedLanguage(tag) { languages.append(language) } else {
                json.fail("languages", "\"\(tag)\" is not a language code (such as en, fr)")
            }
        }
        if languageTags.isEmpty && json.object["languages"] != nil { json.fail("languages", "must name at least one language") }
        if Set(languages).count != languages.count { json.fail("languages", "a language is listed twice") }
        var demands = demandsByLanguage[""] ?? []
        var otherDemands: [String: [String]] = [:]
        if demandsByLanguage[""] == nil, let first = languages.first {
            for key in demandsByLanguage.keys.sorted() where !languages.contains(TextRules.normalizedLanguage(key) ?? key) {
                json.fail("demands", "\"\(key)\" is not one of the campaign's languages (\(languages.joined(separator: ", ")))")
            }
            for (key, list) in demandsByLanguage.sorted(by: { $0.key < $1.key }) {
                if list.isEmpty { json.fail("demands", "gives an empty list for \(key): leave the language out to use the first language's demands") }
                otherDemands[TextRules.normalizedLanguage(key) ?? key] = list
            }
            demands = otherDemands.removeValue(forKey: first) ?? []
            if demands.isEmpty && !demandsByLanguage.isEmpty { json.fail("demands", "gives no demands in the first language, \(first)") }
        }
        if demands.isEmpty && json.object["demands"] != nil && demandsByLanguage[""] != nil { json.fail("demands", "must list at least one demand") }
        var status = CampaignStatus.draft
        if let text = json.string("status") {
            if let parsed = CampaignStatus(rawValue: text) { status = parsed } else {
                json.fail("status", "\"\(text)\" is not one of draft, active, paused, closed")
            }
        }
        let deadline = json.string("deadline")
        if let deadline, !Self.isISODate(deadline) { json.fail("deadline", "\"\(deadline)\" is not a date of the form 2026-12-31") }
        let sendingHours = json.string("sendingHours")
        if let sendingHours, SendingHours(sendingHours) == nil {
            json.fail("sendingHours", "\"\(sendingHours)\" is not of the form 09:00-18:00")
        }
        json.finish()
        if !json.issues.isEmpty { throw .invalidInput(json.issues) }
        return Campaign(
            id: nil, slug: slug, title: title, organization: organization, summary: summary, demands: demands, demandsByLanguage: otherDemands,
            languages: languages, status: status, deadline: deadline, sendingHours: sendingHours, createdAt: now)
    }

    static func isISODate(_ text: String) -> Bool {
        guard text.count == 10, let date = utcDay.date(from: text) else { return false }
        return utcDay.string(from: date) == text
    }
}
