import GRDB

/// Where a letter is in its lifecycle: `queued` → `sending` → `sent` | `deferred` | `failed`; or `cancelled`;
/// and `sent` → `bounced` when a bounce later reports that it never arrived.
public enum LetterStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, sending, sent, deferred, failed, cancelled, bounced

    /// Still to be delivered.
    public var isPending: Bool { self == .queued || self == .sending || self == .deferred }
}
