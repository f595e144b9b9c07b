import Foundation

/// The rules of `campaign update`, `target update` and `target remove`, whichever store keeps the campaign:
/// what changed, what is refused, and how unsent letters are written again.
extension CampaignUpdate {
    /// Compares a stored campaign with its folder's.
    /// - Returns: the stored campaign with the folder's fields (its id and status kept: open, pause and close set
    ///   the status), and the update naming what changed.
    public static func applying(_ new: Campaign, to stored: Campaign) -> (campaign: Campaign, update: CampaignUpdate) {
        var update = CampaignUpdate()
        let fields: [(String, Bool)] = [
            ("title", stored.title != new.title), ("organization", stored.organization != new.organization),
            ("summary", stored.summary != new.summary), ("demands", stored.demands != new.demands || stored.demandsByLanguage != new.demandsByLanguage),
            ("languages", stored.languages != new.languages), ("deadline", stored.deadline != new.deadline),
            ("sendingHours", stored.sendingHours != new.sendingHours),
        ]
        update.changedKeys = fields.filter(\.1).map(\.0)
        if new.status != stored.status { update.statusInFile = new.status }
        var campaign = stored
        campaign.title = new.title
        campaign.organization = new.organization
        campaign.summary = new.summary
        campaign.demands = new.demands
        campaign.demandsByLanguage = new.demandsByLanguage
        campaign.languages = new.languages
        campaign.deadline = new.deadline
        campaign.sendingHours = new.sendingHours
        return (campaign, update)
    }

    /// Notes the languages whose templates changed, were added or removed.
    /// - Parameter old: the stored `[subject, letter]` by language.
    public mutating func compareTemplates(old: [String: [String]], new: [LetterTemplate]) {
        let templates = new.keyed(by: \.language)
        changedTemplates = Set(old.keys).union(templates.keys).sorted().filter { language in
            old[language] != templates[language].map { [$0.subjectSource, $0.letterSource] }
        }
    }

    /// Merges the folder's `targets.csv` into the campaign's targets (`existing`): targets new by address are
    /// added, those whose fields changed are changed (keeping whether they are disabled or removed), those no
    /// longer in the file are named and kept.
    /// - Returns: the targets to insert and those to update, in the file's order.
    /// - Throws: ``AppealsError/invalidInput(_:)`` when a target would be a second embassy in a country.
    public mutating func mergeTargets(_ folder: CampaignFolder, campaignId: Int64, existing: [Target]) throws(AppealsError)
        -> (insert: [Target], update: [Target]) {
        let byKey = existing.keyed(by: \.emailKey)
        var embassies = Dictionary(existing.filter { $0.kind == .embassy && $0.country != nil }.map { ($0.country!, $0) }, uniquingKeysWith: { first, _ in first })
        var inFile = Set<String>()
        var insert: [Target] = [], update: [Target] = []
        for (line, var target) in Target.parse(folder.targets, campaignId: campaignId).targets {
            inFile.insert(target.emailKey)
            let current = byKey[target.emailKey]
            if let current {
                target.id = current.id
                target.disabled = current.disabled
                target.disabledReason = current.disabledReason
                target.removedAt = current.removedAt
                if target == current { continue }
            }
            if target.kind == .embassy, let country = target.country, let other = embassies[country], other.emailKey != target.emailKey {
                throw .invalid(InputLocation(file: folder.targets.file, line: line, field: "country"),
                               "the campaign already has an embassy in \(country) (\(other.email)); a country has one embassy")
            }
            if let old = current?.country, embassies[old]?.emailKey == target.emailKey { embassies[old] = nil }
            if target.kind == .embassy, let country = target.country { embassies[country] = target }
            if current == nil {
                insert.append(target)
                targetsAdded.append(target.email)
            } else {
                update.append(target)
                targetsChanged.append(target.email)
            }
        }
        targetsNotInFile = existing.filter { !inFile.contains($0.emailKey) && $0.removedAt == nil }.map(\.email).sorted()
        return (insert, update)
    }
}

extension Target {
    /// The target with `changes` applied, checked as a `targets.csv` row is (a salutation is needed when the
    /// campaign's `templates` use one); whether it is disabled or removed is kept.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a bad value.
    public func applying(_ changes: TargetChanges, templates: [String]) throws(AppealsError) -> Target {
        var values = csvValues
        for case let (column, value?) in changes.byColumn { values[column] = value }
        let (parsed, issues) = Target.parse([CSVTable.Row(line: 0, values: values)], file: "target update", campaignId: campaignId)
        let problems = issues + Target.missingSalutations(parsed, file: "target update", templates: templates)
        if !problems.isEmpty { throw .invalidInput(problems) }
        var after = parsed[0].target
        after.id = id
        after.disabled = disabled
        after.disabledReason = disabledReason
        after.removedAt = removedAt
        return after
    }

    /// The target once removed by the organizer: it receives nothing more; its letters stay for the counts.
    /// - Throws: ``AppealsError/notFound(_:)`` when it was removed already.
    public func removed(at now: Date, campaign slug: String) throws(AppealsError) -> Target {
        if removedAt != nil { throw .notFound("\(email) was removed from \(slug) already") }
        var target = self
        target.disabled = true
        target.disabledReason = "removed by the organizer"
        target.removedAt = now
        return target
    }
}

extension LetterComposer {
    /// Unsent letters written again from the stored templates and targets, each with its Message-ID kept; a
    /// letter whose supporter or target is not given is left out.
    public func rewritten(_ letters: [Letter], supporters: [Int64: Supporter], targets: [Int64: Target], now: Date) -> [(id: Int64, letter: RenderedLetter)] {
        letters.compactMap { letter in
            guard let supporter = supporters[letter.supporterId], let target = targets[letter.targetId] else { return nil }
            return (letter.id!, compose(supporter: supporter, target: target, now: now))
        }
    }
}
