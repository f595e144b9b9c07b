import Foundation

/// What a queue run works from, whichever store keeps the letters: the campaign, its targets, who writes to
/// which, and the letters' composer; and the rule that makes a batch of supporters' missing letters.
public struct QueuePlan: Sendable {
    public let campaign: Campaign
    public let targets: [Target]
    let targeting: Targeting
    let composer: LetterComposer

    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign is not `active` or `paused`, or its deadline
    ///   has passed.
    public init(composer: LetterComposer, targets: [Target], now: Date) throws(AppealsError) {
        let campaign = composer.campaign
        let slug = campaign.slug
        guard campaign.status.acceptsLetters else {
            throw .conflict("campaign \(slug) is \(campaign.status.rawValue): letters are queued only for active or paused campaigns (appeal-cli campaign open \(slug))")
        }
        if campaign.deadlinePassed(at: now) {
            throw .conflict("campaign \(slug)'s deadline \(campaign.deadline!) has passed: no new letters are queued (letters already queued are still sent; move \"deadline\" in campaign.json to queue more)")
        }
        self.campaign = campaign
        self.targets = targets
        targeting = Targeting(targets)
        self.composer = composer
    }

    /// Supporters per batch for about `letters` letters: a supporter writes to every official and one embassy at most.
    public func batchSize(letters: Int) -> Int {
        max(1, letters / (targets.count(where: { $0.kind == .official }) + 1))
    }

    /// The missing letters of `supporters` (skipping the `[supporter id, target id]` pairs in `existing`),
    /// rendered on every core, each with its Message-ID.
    /// - Parameter report: counts the supporters, those without an embassy or consent, and the letters already there.
    public func letters(for supporters: [Supporter], skipping existing: Set<[Int64]>, messageIDs: MessageIDGenerator, now: Date,
                        counting report: inout QueueReport) async -> [(Letter, RenderedLetter)] {
        let work = targeting.letters(for: supporters, skipping: existing, counting: &report)
        let composer = composer
        let rendered = await work.parallelMap(minimumPerCore: 32) { composer.compose(supporter: $0.supporter, target: $0.target, now: now) }
        return zip(work, rendered).map { item, rendered in
            (Letter.queued(supporter: item.supporter, target: item.target, language: rendered.language, messageId: messageIDs.next(), at: now),
             rendered)
        }
    }
}

extension QueueReport {
    /// The report once `attempted` letters were written and `added` of them were new (others had raced us).
    public func counted(added: Int, attempted: Int) -> QueueReport {
        var report = self
        report.queued = added
        report.alreadyQueued += attempted - added
        return report
    }
}

extension LetterComposer {
    /// The composer of a campaign's stored templates.
    /// - Parameter sources: `[language, subject, letter]` for each language.
    public init(campaign: Campaign, storedTemplates sources: [[String]], timeZone: TimeZone) throws(AppealsError) {
        var templates: [LetterTemplate] = []
        for source in sources {
            let language = source[0]
            templates.append(try LetterTemplate(language: language, subject: source[1], subjectFile: "subject.\(language).mustache",
                                                letter: source[2], letterFile: "letter.\(language).mustache"))
        }
        try self.init(campaign: campaign, templates: templates, timeZone: timeZone)
    }
}
