/// The targeting rule: every supporter writes to every official, and to the embassy in their own country.
public struct Targeting: Sendable {
    public let officials: [Target]
    public let embassies: [String: Target]

    /// - Parameter targets: the campaign's targets; disabled and removed ones receive nothing and are left out.
    public init(_ targets: [Target]) {
        let enabled = targets.filter { !$0.disabled && $0.removedAt == nil }
        officials = enabled.filter { $0.kind == .official }
        embassies = enabled.filter { $0.kind == .embassy && $0.country != nil }.keyed { $0.country! }
    }

    /// The targets `supporter` writes to, officials first.
    public func targets(for supporter: Supporter) -> [Target] {
        officials + (embassy(for: supporter).map { [$0] } ?? [])
    }

    public func embassy(for supporter: Supporter) -> Target? {
        supporter.country.flatMap { embassies[$0] }
    }

    /// The letters `supporters` write: one to each of their targets, none in the name of a supporter who said
    /// no, none for a pair in `existing` (`[supporter id, target id]`, already queued).
    /// - Parameter report: counts the supporters, those without an embassy or consent, and the letters already there.
    public func letters(for supporters: [Supporter], skipping existing: Set<[Int64]>, counting report: inout QueueReport)
        -> [(supporter: Supporter, target: Target)] {
        var work: [(supporter: Supporter, target: Target)] = []
        for supporter in supporters {
            report.supporters += 1
            if embassy(for: supporter) == nil { report.supportersWithoutEmbassy += 1 }
            if supporter.consent == false {
                report.supportersWithoutConsent += 1
                continue
            }
            for target in targets(for: supporter) {
                if existing.contains([supporter.id!, target.id!]) {
                    report.alreadyQueued += 1
                } else {
                    work.append((supporter, target))
                }
            }
        }
        return work
    }
}
