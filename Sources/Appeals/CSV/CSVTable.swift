import Foundation

/// A CSV file whose first record is a header of known column names, in any order.
public struct CSVTable: Sendable {
    /// One data row: values by column name, and the line it starts on.
    public struct Row: Sendable {
        /// `0` for values that came from the command line rather than a file.
        public let line: Int
        /// The record's fields, and where each column is among them: one index shared by every row of a
        /// file (a dictionary per row cost more memory than the text it held).
        private let fields: [String]
        private let columnIndex: [String: Int]

        public init(line: Int, values: [String: String]) {
            self.line = line
            fields = Array(values.values)
            columnIndex = Dictionary(uniqueKeysWithValues: values.keys.enumerated().map { ($1, $0) })
        }

        init(line: Int, fields: [String], columnIndex: [String: Int]) {
            self.line = line
            self.fields = fields
            self.columnIndex = columnIndex
        }

        var columns: [String] { Array(columnIndex.keys) }

        /// The trimmed value of `column`, or `""` when the column is absent or empty.
        public subscript(column: String) -> String {
            raw(column).trimmingCharacters(in: .whitespaces)
        }

        /// The untrimmed value, for paragraphs whose inner line breaks matter.
        public func raw(_ column: String) -> String { columnIndex[column].map { fields[$0] } ?? "" }
    }

    public let file: String
    public let columns: [String]
    public let rows: [Row]

    /// A table of values that did not come from a file (`supporter add`).
    public init(file: String, rows: [Row]) {
        self.file = file
        self.columns = rows.first?.columns ?? []
        self.rows = rows
    }

    /// Reads and checks a CSV file.
    /// - Parameters:
    ///   - file: the name used in messages.
    ///   - bytes: the file's contents.
    ///   - known: every column the file may have.
    ///   - required: the columns it must have.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a malformed file, an unknown, repeated or missing column,
    ///   or a row whose field count differs from the header's.
    public init(file: String, bytes: [UInt8], known: [String], required: [String]) throws(AppealsError) {
        let records = try CSVReader(file: file).records(from: bytes)
        guard let header = records.first else {
            throw .invalid(InputLocation(file: file, line: 1), "the file is empty; expected a header line: \(known.joined(separator: ","))")
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var issues: [InputIssue] = []
        var seen = Set<String>()
        for column in columns {
            if !known.contains(column) {
                issues.append(InputIssue(InputLocation(file: file, line: header.line, field: column.isEmpty ? "(empty)" : column),
                                         "unknown column; expected some of: \(known.joined(separator: ","))"))
            } else if !seen.insert(column).inserted {
                issues.append(InputIssue(InputLocation(file: file, line: header.line, field: column), "column appears twice"))
            }
        }
        for column in required where !columns.contains(column) {
            issues.append(InputIssue(InputLocation(file: file, line: header.line, field: column), "required column is missing"))
        }
        var rows: [Row] = []
        // A repeated column keeps its first field, as reported above.
        var columnIndex: [String: Int] = [:]
        for (index, column) in columns.enumerated() where columnIndex[column] == nil { columnIndex[column] = index }
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                issues.append(InputIssue(InputLocation(file: file, line: record.line),
                                         "expected \(columns.count) fields as in the header, found \(record.fields.count)"))
                continue
            }
            rows.append(Row(line: record.line, fields: record.fields, columnIndex: columnIndex))
        }
        if !issues.isEmpty { throw .invalidInput(issues) }
        self.file = file
        self.columns = columns
        self.rows = rows
    }
}

extension CSVTable {
    /// Reads `path` from disk, then parses it as ``init(file:bytes:known:required:)`` does.
    public init(path: String, known: [String], required: [String]) throws(AppealsError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid(InputLocation(file: path), "cannot read the file")
        }
        try self.init(file: path, bytes: [UInt8](data), known: known, required: required)
    }
}
