/// What an import did: rows stored, rows already present (reported, not duplicated), rows skipped as invalid.
public struct ImportReport: Sendable, Equatable {
    public var imported = 0
    /// Rows whose email was already in the campaign or earlier in the same file.
    public var alreadyPresent = IssueList()
    /// Invalid rows left out under `--skip-invalid`.
    public var skipped = IssueList()

    public init() {}
}

/// Problems of many rows: the first ``limit`` are kept to be listed, the others only counted, so that a file
/// of a million bad rows costs no more memory than a good one.
public struct IssueList: Sendable, Equatable {
    public static let limit = 1000
    public private(set) var listed: [InputIssue] = []
    /// Problems found beyond the listed ones.
    public private(set) var unlisted = 0

    public init() {}

    public var count: Int { listed.count + unlisted }
    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ issue: InputIssue) {
        if listed.count < Self.limit { listed.append(issue) } else { unlisted += 1 }
    }

    public mutating func append(contentsOf issues: [InputIssue]) {
        for issue in issues { append(issue) }
    }

    /// The listed problems, and a last line counting the others.
    public func all(file: String) -> [InputIssue] {
        unlisted == 0 ? listed : listed + [InputIssue(InputLocation(file: file), "and \(unlisted) more problems, not listed")]
    }
}

/// The problems of one row.
public struct InputIssues: Error, Sendable {
    public var issues: [InputIssue]
    public init(_ issues: [InputIssue]) { self.issues = issues }
}
