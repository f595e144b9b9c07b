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
}
