import GRDB

/// Where a letter is in its lifecycle: `queued` → `sending` → `sent` | `deferred` | `failed`; or `cancelled`.
public enum LetterStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, sending, sent, deferred, failed, cancelled

    /// Still to be delivered.
    public var isPending: Bool { self == .queued || self == .sending || self == .deferred }
}
