import Foundation
import GRDB

/// Who a letter is addressed to.
public enum TargetKind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// A head of state, prosecutor, minister: every supporter writes to every official.
    case official
    /// The target country's embassy located in `country`: written to by supporters of that country.
    case embassy
}

/// An official or embassy that supporters write to.
public struct Target: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var campaignId: Int64
    public var kind: TargetKind
    public var name: String
    public var title: String
    public var salutation: String
    /// The salutation in other languages, by language code (`salutation_de` columns of `targets.csv`).
    public var salutations: [String: String] = [:]
    public var email: String
    public var emailKey: String
    /// ISO 3166-1 alpha-2; required for an embassy.
    public var country: String?
    public var language: String?
    public var postalAddress: String?
    public var fax: String?
    /// IANA time zone, for sending hours.
    public var timezone: String?
    /// Set when the address hard-bounced: the target receives nothing more until re-enabled.
    public var disabled: Bool
    public var disabledReason: String?
    /// Set by `target remove`: the target is gone from the campaign; its letters stay for the counts.
    public var removedAt: Date?
}

extension Target: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "target"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Decoded by hand: every claim of letters reads their targets, and `Codable` with snake-case keys is slow.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        campaignId = try row.decode(forColumn: "campaign_id")
        kind = try row.decode(forColumn: "kind")
        name = try row.decode(forColumn: "name")
        title = try row.decode(forColumn: "title")
        salutation = try row.decode(forColumn: "salutation")
        let salutationsJSON: String = try row.decode(forColumn: "salutations")
        // Most targets have no other salutations: no JSON decoder for those.
        salutations = salutationsJSON == "{}" ? [:] : (try? JSONDecoder().decode([String: String].self, from: Data(salutationsJSON.utf8))) ?? [:]
        email = try row.decode(forColumn: "email")
        emailKey = try row.decode(forColumn: "email_key")
        country = try row.decode(forColumn: "country")
        language = try row.decode(forColumn: "language")
        postalAddress = try row.decode(forColumn: "postal_address")
        fax = try row.decode(forColumn: "fax")
        timezone = try row.decode(forColumn: "timezone")
        disabled = try row.decode(forColumn: "disabled")
        disabledReason = try row.decode(forColumn: "disabled_reason")
        removedAt = try row.decode(forColumn: "removed_at")
    }
}

extension Target {
    /// Enables or disables the target by the organizer's hand; a removed target cannot be enabled.
    /// - Throws: ``AppealsError/conflict(_:)`` when enabling a removed target.
    public mutating func setEnabled(_ enabled: Bool, campaign slug: String) throws(AppealsError) {
        if removedAt != nil && enabled { throw .conflict("\(email) was removed from \(slug): it cannot be enabled again") }
        disabled = !enabled
        disabledReason = enabled ? nil : "disabled by the organizer"
    }

    /// The error for an address that is not a target of the campaign.
    public static func notFound(_ email: String, campaign slug: String) -> AppealsError {
        .notFound("\(email) is not a target of \(slug); `appeal-cli target list --campaign \(slug)` shows them")
    }
}
