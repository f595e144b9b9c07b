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
        var rows: [Row] = []
        var issues: [InputIssue] = []
        let header = try AppealsError.rethrown {
            try bytes.withUnsafeBufferPointer { buffer in
                try CSVHeader.forEachItem(in: buffer, file: file, known: known, required: required) { item in
                    switch item {
                    case .row(let row): rows.append(row)
                    case .problem(let issue): issues.append(issue)
                    }
                }
            }
        }
        if !issues.isEmpty { throw .invalidInput(issues) }
        self.file = file
        self.columns = header.columns
        self.rows = rows
    }
}

/// A data row of a CSV file, or what is wrong with it.
public enum CSVItem: Sendable {
    case row(CSVTable.Row)
    case problem(InputIssue)
}

/// Rows of a CSV file, handed out one at a time: a supporter list of a million rows is never held whole.
public protocol CSVRowSource {
    /// The name used in messages.
    var file: String { get }
    /// Calls `body` with each data row (or the problem with it), in order.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a malformed file, or what `body` throws.
    func forEachItem(_ body: (CSVItem) throws -> Void) throws
}

extension CSVTable: CSVRowSource {
    public func forEachItem(_ body: (CSVItem) throws -> Void) throws {
        for row in rows { try body(.row(row)) }
    }
}

/// A CSV file read from disk as it is used, its header checked when it is opened.
public struct CSVFile: CSVRowSource, Sendable {
    public let file: String
    private let known: [String]
    private let required: [String]

    /// Checks the file's header (its first line).
    /// - Throws: ``AppealsError/invalidInput(_:)`` when it cannot be read or its header is wrong.
    public init(path: String, known: [String], required: [String]) throws(AppealsError) {
        self.file = path
        self.known = known
        self.required = required
        // The header alone: the first line (a header has no quoted line breaks worth allowing).
        let firstLine = try Self.reading(path) { input throws(AppealsError) in try input.prefixLine(limit: 64 << 10) }
        _ = try CSVTable(file: path, bytes: firstLine, known: known, required: required)
    }

    public func forEachItem(_ body: (CSVItem) throws -> Void) throws {
        try Self.reading(file) { input in
            _ = try CSVHeader.forEachItem(from: input, file: file, known: known, required: required, body)
        }
    }

    /// Opens `path` and runs `body` with its bytes as they are read (see ``CSVInput``).
    private static func reading<T>(_ path: String, _ body: (CSVInput) throws -> T) throws -> T {
        let (descriptor, status): (Int32, stat)
        do {
            (descriptor, status) = try RegularFile.open(path)
        } catch {
            throw AppealsError.invalid(InputLocation(file: path), "cannot read the file: \(error.reason)")
        }
        defer { close(descriptor) }
        return try body(CSVInput(descriptor: descriptor, size: Int(status.st_size), file: path))
    }

    private static func reading<T>(_ path: String, _ body: (CSVInput) throws(AppealsError) -> T) throws(AppealsError) -> T {
        try AppealsError.rethrown { try reading(path) { input in try body(input) } }
    }
}

/// A CSV file's header: its columns, checked against the known and required ones.
struct CSVHeader {
    let columns: [String]
    /// Where each column is among a row's fields; a repeated column keeps its first field.
    let columnIndex: [String: Int]

    /// Reads the records of `bytes`: the first is the header, checked; each later one is handed to `body`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a malformed file or header, or what `body` throws.
    static func forEachItem(in bytes: UnsafeBufferPointer<UInt8>, file: String, known: [String], required: [String],
                            _ body: (CSVItem) throws -> Void) throws -> CSVHeader {
        try forEachItem(from: CSVInput(bytes, file: file), file: file, known: known, required: required, body)
    }

    static func forEachItem(from input: CSVInput, file: String, known: [String], required: [String],
                            _ body: (CSVItem) throws -> Void) throws -> CSVHeader {
        var header: CSVHeader?
        try CSVReader(file: file, knownColumns: known).forEachRecord(from: input) { record in
            guard let current = header else {
                header = try CSVHeader(record, file: file, known: known, required: required)
                return
            }
            guard record.fields.count == current.columns.count else {
                try body(.problem(InputIssue(InputLocation(file: file, line: record.line),
                                             "expected \(current.columns.count) fields as in the header, found \(record.fields.count)")))
                return
            }
            try body(.row(CSVTable.Row(line: record.line, fields: record.fields, columnIndex: current.columnIndex)))
        }
        guard let header else {
            throw AppealsError.invalid(InputLocation(file: file, line: 1), "the file is empty; expected a header line: \(known.joined(separator: ","))")
        }
        return header
    }

    init(_ record: CSVRecord, file: String, known: [String], required: [String]) throws(AppealsError) {
        let columns = record.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var issues: [InputIssue] = []
        var seen = Set<String>()
        // A known name ending in `*` stands for every column starting so (`salutation_*`: `salutation_de`, …).
        func isKnown(_ column: String) -> Bool {
            known.contains(column) || known.contains { $0.hasSuffix("*") && column.hasPrefix($0.dropLast()) && column.count > $0.count - 1 }
        }
        for column in columns {
            if !isKnown(column) {
                issues.append(InputIssue(InputLocation(file: file, line: record.line, field: column.isEmpty ? "(empty)" : column),
                                         "unknown column; expected some of: \(known.joined(separator: ","))"))
            } else if !seen.insert(column).inserted {
                issues.append(InputIssue(InputLocation(file: file, line: record.line, field: column), "column appears twice"))
            }
        }
        for column in required where !columns.contains(column) {
            issues.append(InputIssue(InputLocation(file: file, line: record.line, field: column), "required column is missing"))
        }
        if !issues.isEmpty { throw .invalidInput(issues) }
        var columnIndex: [String: Int] = [:]
        for (index, column) in columns.enumerated() where columnIndex[column] == nil { columnIndex[column] = index }
        self.columns = columns
        self.columnIndex = columnIndex
    }
}

extension CSVTable {
    /// Reads `path` from disk, then parses it as ``init(file:bytes:known:required:)`` does.
    public init(path: String, known: [String], required: [String]) throws(AppealsError) {
        try self.init(file: path, bytes: [UInt8](try RegularFile.contents(path)), known: known, required: required)
    }
}
