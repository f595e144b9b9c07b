import Foundation

/// A letter's rendered text and the language it was written in.
public struct RenderedLetter: Sendable, Equatable {
    public var language: String
    public var subject: String
    public var body: String
}

/// Renders a campaign's letters, choosing each letter's language by the documented rule.
public struct LetterComposer: Sendable {
    public let campaign: Campaign
    let templates: [String: LetterTemplate]
    let timeZone: TimeZone

    let defaultTemplate: LetterTemplate
    let names = LocalizedNames()
    let skeletons = LetterSkeletons()

    /// - Throws: ``AppealsError/storage(_:)`` when a language the campaign lists has no templates.
    public init(campaign: Campaign, templates: [LetterTemplate], timeZone: TimeZone = .current) throws(AppealsError) {
        self.campaign = campaign
        self.templates = templates.keyed(by: \.language)
        self.timeZone = timeZone
        for language in campaign.languages where self.templates[language] == nil {
            throw .storage("campaign \(campaign.slug) has no templates for its language \(language)")
        }
        defaultTemplate = self.templates[campaign.defaultLanguage]!
    }

    /// The supporter's language when the campaign has templates for it, else the target's, else the campaign's first.
    /// `fr-CA` is served by `fr` templates.
    public func language(for supporter: Supporter, target: Target) -> String {
        for wanted in [supporter.language, target.language].compactMap({ $0 }) {
            if let match = match(wanted) { return match }
        }
        return campaign.defaultLanguage
    }

    private func match(_ language: String) -> String? {
        if templates[language] != nil { return language }
        let primary = String(language.prefix { $0 != "-" })
        if templates[primary] != nil { return primary }
        return nil
    }

    /// Renders the letter from `supporter` to `target` as it would be written on `now`.
    public func compose(supporter: Supporter, target: Target, now: Date) -> RenderedLetter {
        let (language, template, values) = prepare(supporter: supporter, target: target, now: now)
        let key = target.id.map {
            LetterSkeletons.Key(language: language, targetId: $0, date: values.date, present: values.presentSupporterFields)
        }
        let skeletons = key.flatMap { key in
            self.skeletons.entry(for: key) {
                template.holdsMarker || values.fixedTexts.contains(where: LetterSkeleton.holdsMarker) ? nil : template.skeletons(values)
            }
        }
        guard let skeletons else {
            let (subject, body) = template.render(values)
            return RenderedLetter(language: language, subject: subject, body: body)
        }
        let (subject, body) = LetterTemplate.finish(subject: skeletons.subject.filled(with: values.supporter),
                                                    body: skeletons.body.filled(with: values.supporter))
        return RenderedLetter(language: language, subject: subject, body: body)
    }

    /// Renders the letter through swift-mustache in full, never from a skeleton: what ``compose(supporter:target:now:)`` must equal.
    func composeInFull(supporter: Supporter, target: Target, now: Date) -> RenderedLetter {
        let (language, template, values) = prepare(supporter: supporter, target: target, now: now)
        let (subject, body) = template.render(values)
        return RenderedLetter(language: language, subject: subject, body: body)
    }

    private func prepare(supporter: Supporter, target: Target, now: Date) -> (String, LetterTemplate, LetterValues) {
        let language = language(for: supporter, target: target)
        let template = templates[language] ?? defaultTemplate
        let values = LetterValues(campaign: campaign, supporter: supporter, target: target, language: language,
                                  date: names.date(now, in: language, timeZone: timeZone), names: names)
        return (language, template, values)
    }
}
