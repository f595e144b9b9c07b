import Foundation

/// Which due letters a send run may take now: each campaign's sending hours in each target's own time zone,
/// and the hourly limit per target. Works on values parsed once, when the campaigns and targets are loaded,
/// not on the stored strings of every candidate; holds no database, so that every store shares the rule.
public struct ClaimPolicy: Sendable {
    /// A letter that could be claimed, by the columns the policy looks at.
    public struct Candidate: Sendable, Equatable {
        public var letterId: Int64
        public var campaignId: Int64
        public var targetId: Int64

        public init(letterId: Int64, campaignId: Int64, targetId: Int64) {
            self.letterId = letterId
            self.campaignId = campaignId
            self.targetId = targetId
        }
    }

    private let windows: [Int64: SendingHours]
    private let zones: [Int64: TimeZone]
    /// `0`: no limit.
    public let perTargetPerHour: Int

    /// - Parameters:
    ///   - sendingHours: by campaign; a campaign without sending hours sends at any time.
    ///   - timeZones: by target, for every target a letter may go to.
    public init(sendingHours: [Int64: SendingHours], timeZones: [Int64: TimeZone], perTargetPerHour: Int) {
        windows = sendingHours
        zones = timeZones
        self.perTargetPerHour = perTargetPerHour
    }

    /// The policy for letters of `campaigns` to `targets`, their stored sending hours and time zones parsed
    /// once; a target without a time zone is in UTC.
    public init(campaigns: [Campaign], targets: [Target], perTargetPerHour: Int) {
        let utc = TimeZone(identifier: "UTC")!
        self.init(sendingHours: Dictionary(campaigns.compactMap { campaign in campaign.sendingHours.flatMap(SendingHours.init).map { (campaign.id!, $0) } },
                                           uniquingKeysWith: { first, _ in first }),
                  timeZones: Dictionary(targets.map { ($0.id!, $0.timezone.flatMap(TimeZone.init(identifier:)) ?? utc) }, uniquingKeysWith: { first, _ in first }),
                  perTargetPerHour: perTargetPerHour)
    }

    /// Whether the target's local time at `date` is inside its campaign's sending hours.
    public func isInsideSendingHours(campaignId: Int64, targetId: Int64, at date: Date) -> Bool {
        guard let window = windows[campaignId] else { return true }
        return window.contains(date, in: zones[targetId] ?? TimeZone(identifier: "UTC")!)
    }

    /// The targets none of whose letters may be claimed at `date`: outside their campaign's sending hours, or at
    /// their hourly limit. A claim's look-ahead leaves their letters out, so that a target's thousands of letters
    /// waiting for its night to end, or for its next hour, never crowd the other targets' letters out of it.
    public func closedTargets(_ targets: [Target], at date: Date, sentLastHour: [Int64: Int]) -> [Int64] {
        Set(targets.compactMap { target in
            if perTargetPerHour > 0 && sentLastHour[target.id!, default: 0] >= perTargetPerHour { return target.id! }
            return isInsideSendingHours(campaignId: target.campaignId, targetId: target.id!, at: date) ? nil : target.id!
        }).sorted()
    }

    /// The candidates a claim takes, in order, up to `limit`.
    /// - Parameters:
    ///   - candidates: in due order; a candidate whose campaign or target is unknown is passed over.
    ///   - sentLastHour: letters sent or being sent to each target in the last hour.
    /// - Returns: the chosen letters, and how many candidates were looked at.
    public func choose(_ candidates: [Candidate], limit: Int, at date: Date, sentLastHour: [Int64: Int]) -> (chosen: [Int64], examined: Int) {
        var used = sentLastHour
        var chosen: [Int64] = []
        var examined = 0
        // One clock reading per target and claim: the local minute does not change within a claim that matters.
        var inside: [Int64: Bool] = [:]
        for candidate in candidates where chosen.count < limit {
            examined += 1
            guard zones[candidate.targetId] != nil else { continue }
            let key = candidate.targetId
            let open = inside[key] ?? isInsideSendingHours(campaignId: candidate.campaignId, targetId: candidate.targetId, at: date)
            inside[key] = open
            if !open { continue }
            if perTargetPerHour > 0 {
                let count = used[candidate.targetId, default: 0]
                if count >= perTargetPerHour { continue }
                used[candidate.targetId] = count + 1
            }
            chosen.append(candidate.letterId)
        }
        return (chosen, examined)
    }
}
