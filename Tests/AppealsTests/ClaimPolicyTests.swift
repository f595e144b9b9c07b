import Appeals
import Foundation
import Testing

@Suite("Which due letters a run may take")
struct ClaimPolicyTests {
    /// 2026-11-30 12:00 UTC: 16:00 in Baku, 13:00 in Berlin, 07:00 in New York.
    static let noon = Date(timeIntervalSince1970: 1_796_040_000)
    static let zones: [Int64: TimeZone] = [1: TimeZone(identifier: "Asia/Baku")!, 2: TimeZone(identifier: "Europe/Berlin")!,
                                           3: TimeZone(identifier: "America/New_York")!]

    static func candidates(_ targets: [Int64], campaign: Int64 = 10) -> [ClaimPolicy.Candidate] {
        targets.enumerated().map { ClaimPolicy.Candidate(letterId: Int64(100 + $0.offset), campaignId: campaign, targetId: $0.element) }
    }

    @Test("sending hours are read in each target's own time zone")
    func sendingHoursPerZone() throws {
        let policy = ClaimPolicy(sendingHours: [10: try #require(SendingHours("08:00-18:00"))], timeZones: Self.zones, perTargetPerHour: 0)
        let (chosen, examined) = policy.choose(Self.candidates([1, 2, 3]), limit: 10, at: Self.noon, sentLastHour: [:])
        #expect(chosen == [100, 101])
        #expect(examined == 3)
        // Two hours later New York opens and Baku closes.
        #expect(policy.choose(Self.candidates([1, 2, 3]), limit: 10, at: Self.noon.addingTimeInterval(7200), sentLastHour: [:]).chosen == [101, 102])
    }

    @Test("a window across midnight, and a campaign without sending hours")
    func overnightAndOpen() throws {
        let night = ClaimPolicy(sendingHours: [10: try #require(SendingHours("22:00-06:00"))], timeZones: Self.zones, perTargetPerHour: 0)
        #expect(night.choose(Self.candidates([1, 2, 3]), limit: 10, at: Self.noon.addingTimeInterval(-8 * 3600), sentLastHour: [:]).chosen == [101, 102])
        let open = ClaimPolicy(sendingHours: [:], timeZones: Self.zones, perTargetPerHour: 0)
        #expect(open.choose(Self.candidates([1, 2, 3]), limit: 10, at: Self.noon, sentLastHour: [:]).chosen == [100, 101, 102])
    }

    @Test("the hourly limit counts what was sent in the last hour and what this claim takes")
    func hourlyLimit() {
        let policy = ClaimPolicy(sendingHours: [:], timeZones: Self.zones, perTargetPerHour: 2)
        let (chosen, examined) = policy.choose(Self.candidates([1, 1, 1, 2, 2, 2]), limit: 10, at: Self.noon, sentLastHour: [2: 1])
        #expect(chosen == [100, 101, 103])
        #expect(examined == 6)
    }

    @Test("the claim stops at its limit and says how far it looked; unknown targets are passed over")
    func limitAndUnknown() {
        let policy = ClaimPolicy(sendingHours: [:], timeZones: Self.zones, perTargetPerHour: 0)
        let (chosen, examined) = policy.choose(Self.candidates([9, 1, 2, 3]), limit: 2, at: Self.noon, sentLastHour: [:])
        #expect(chosen == [101, 102])
        #expect(examined == 3)
    }
}
