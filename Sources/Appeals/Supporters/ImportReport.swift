/// What an import did: rows stored, rows already present (reported, not duplicated), rows skipped as invalid.
public struct ImportReport: Sendable, Equatable {
    public var imported = 0
    /// Rows whose email was already in the campaign or earlier in the same file.
    public var alreadyPresent: [InputIssue] = []
    /// Invalid rows left out under `--skip-invalid`.
    public var skipped: [InputIssue] = []

    public init() {}
}
