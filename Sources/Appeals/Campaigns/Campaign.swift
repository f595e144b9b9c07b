import Foundation
import GRDB

/// Whether letters are queued and sent for a campaign.
public enum CampaignStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case draft, active, paused, closed

    /// Letters are queued for active and paused campaigns.
    public var acceptsLetters: Bool { self == .active || self == .paused }
    /// Letters are sent only for active campaigns.
    public var sendsLetters: Bool { self == .active }
}

/// An urgent appeal: the case, its demands, and the languages its letters are written in.
public struct Campaign: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var slug: String
    public var title: String
    public var organization: String
    public var summary: String
    /// In the first language, and in any other language that `demandsByLanguage` does not give.
    public var demands: [String]
    /// The demands in other languages, by language code.
    public var demandsByLanguage: [String: [String]] = [:]
    /// The first is the default language.
    public var languages: [String]
    public var status: CampaignStatus
    /// ISO date, `yyyy-MM-dd`.
    public var deadline: String?
    /// `"09:00-18:00"`, in each target's time zone.
    public var sendingHours: String?
    public var createdAt: Date

    public var defaultLanguage: String { languages[0] }

    /// The demands written in `language`, or in the first language when the campaign gives none in it.
    public func demands(in language: String) -> [String] { demandsByLanguage[language] ?? demands }

    /// Whether the deadline day (inclusive, in UTC) is over at `now`: no new letter is queued after it.
    public func deadlinePassed(at now: Date) -> Bool {
        Self.deadlinePassed(deadline, at: now)
    }

    static func deadlinePassed(_ deadline: String?, at now: Date) -> Bool {
        guard let deadline, let day = utcDay.date(from: deadline) else { return false }
        return now >= day.addingTimeInterval(24 * 3600)
    }

    public static let utcDay = DateFormatter.utc("yyyy-MM-dd")
}

extension Campaign: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "campaign"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
