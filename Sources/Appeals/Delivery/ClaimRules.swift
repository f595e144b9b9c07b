import Foundation

/// Which due letters a send run may take now.
public struct ClaimRules: Sendable {
    /// Only this campaign's letters, or every active campaign's.
    public var campaign: String?
    /// How many letters to claim at most.
    public var limit: Int
    public var now: Date
    /// `0`: no limit.
    public var perTargetPerHour: Int
    /// The claiming run's id, written on each claimed letter.
    public var owner: String

    public init(campaign: String?, limit: Int, now: Date, perTargetPerHour: Int, owner: String) {
        self.campaign = campaign
        self.limit = limit
        self.now = now
        self.perTargetPerHour = perTargetPerHour
        self.owner = owner
    }
}

extension SendingHours {
    /// Whether `date` falls inside the window in `timeZone`.
    public func contains(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return contains(minute: (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }
}
