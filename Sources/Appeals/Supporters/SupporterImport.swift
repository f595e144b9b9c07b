import Foundation

/// The rules of one supporter import, whichever store keeps the rows: bad rows are listed (and refuse the
/// file unless `skipInvalid`), an address already in the campaign or earlier in the file is reported and not
/// stored again. The store inserts what ``take(_:)`` hands it and tells ``stored(_:added:)`` whether its unique
/// constraint let the row in: the database, not this type, decides what is a duplicate.
public struct SupporterImport: Sendable {
    /// A row to store.
    public struct Row: Sendable {
        public let supporter: Supporter
        let location: InputLocation
        /// The line the same address was first seen on in this file, if an earlier one.
        let firstLine: Int?
    }

    let file: String
    let slug: String
    let campaignId: Int64
    let skipInvalid: Bool
    let now: Date
    /// The line each address was first seen on, by the hash of its key: twelve bytes per row, not its text.
    private var firstLine: [Int: UInt32] = [:]
    private var problems = IssueList()
    private var report = ImportReport()

    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign is closed.
    public init(file: String, campaign: Campaign, skipInvalid: Bool, now: Date) throws(AppealsError) {
        if campaign.status == .closed { throw .conflict("campaign \(campaign.slug) is closed: it takes no more supporters") }
        self.file = file
        slug = campaign.slug
        campaignId = campaign.id!
        self.skipInvalid = skipInvalid
        self.now = now
    }

    /// The row's supporter to store, or nil: a bad row is noted, and once the file is to be refused whole the
    /// rows after it are only checked.
    public mutating func take(_ item: CSVItem) -> Row? {
        let row: CSVTable.Row
        switch item {
        case .problem(let issue):
            problems.append(issue)
            return nil
        case .row(let value):
            row = value
        }
        let supporter: Supporter
        switch Supporter.parse(row, file: file, campaignId: campaignId, now: now) {
        case .failure(let bad):
            problems.append(contentsOf: bad.issues)
            return nil
        case .success(let value):
            supporter = value
        }
        if !problems.isEmpty && !skipInvalid { return nil }
        let key = supporter.emailKey!.hashValue
        let first = firstLine[key].map(Int.init)
        if first == nil { firstLine[key] = UInt32(clamping: row.line) }
        return Row(supporter: supporter, location: InputLocation(file: file, line: row.line > 0 ? row.line : nil, field: "email"), firstLine: first)
    }

    /// Notes whether the store added the row, or already had a supporter with its address.
    public mutating func stored(_ row: Row, added: Bool) {
        if added {
            report.imported += 1
        } else if let first = row.firstLine {
            report.alreadyPresent.append(InputIssue(row.location, "\(row.supporter.email!) is already on line \(first); kept line \(first)"))
        } else {
            report.alreadyPresent.append(InputIssue(row.location, "\(row.supporter.email!) is already a supporter of \(slug)"))
        }
    }

    /// What the import did.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing the bad lines (the first thousand, and a count of
    ///   the others) when there are any and not `skipInvalid`: the store must then keep nothing.
    public func finish() throws(AppealsError) -> ImportReport {
        if !problems.isEmpty && !skipInvalid { throw .invalidInput(problems.all(file: file)) }
        var report = report
        report.skipped = problems
        return report
    }

    /// The row of one supporter given on the command line (`supporter add`), checked like a CSV row.
    /// - Parameter values: by CSV column name (`name`, `email`, `country`, `city`, `language`, `personal_note`).
    public static func added(_ values: [String: String]) -> CSVTable {
        CSVTable(file: "supporter add", rows: [CSVTable.Row(line: 0, values: values)])
    }
}
