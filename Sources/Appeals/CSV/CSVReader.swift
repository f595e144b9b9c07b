/// One record of a CSV file, with the line it starts on (a quoted field may span lines).
public struct CSVRecord: Sendable, Equatable {
    public var line: Int
    public var fields: [String]
}

/// A strict RFC 4180 reader: quoted fields with `""` escapes and embedded line breaks, CRLF or LF
/// line ends, an optional UTF-8 byte-order mark. Every fault is reported with its line.
///
/// Written for this project rather than taken from the mirror because import errors must name the
/// physical line of each record, and limits must hold against hostile files (a 10 MB field,
/// a million columns) before any memory is spent on them.
public struct CSVReader: Sendable {
    public struct Limits: Sendable {
        public var maxFieldBytes = 65_536
        public var maxFields = 64
        public init() {}
    }

    public let file: String
    public var limits = Limits()
    /// The columns a header may name: a first line of those names separated by `;` makes `;` the separator.
    public var knownColumns: [String] = []

    public init(file: String, knownColumns: [String] = []) {
        self.file = file
        self.knownColumns = knownColumns
    }

    /// The field separator: `;` when the first line is known column names separated by semicolons
    /// (spreadsheets in much of Europe save CSV so), else `,`.
    static func separator(ofFirstLine line: [UInt8], knownColumns: [String]) -> UInt8 {
        let comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";")
        guard !knownColumns.isEmpty else { return comma }
        guard !line.contains(comma), line.contains(semicolon) else { return comma }
        let names = String(decoding: line, as: UTF8.self).split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        return names.allSatisfy(knownColumns.contains) ? semicolon : comma
    }

    /// Parses every record; blank lines are skipped.
    /// - Throws: ``AppealsError/invalidInput(_:)`` naming the line of the first malformed record.
    public func records(from bytes: [UInt8]) throws(AppealsError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        try AppealsError.rethrown { try bytes.withUnsafeBufferPointer { buffer in try forEachRecord(in: buffer) { records.append($0) } } }
        return records
    }

    /// Hands each record to `body` as it is read, keeping none: a file of a million rows is read in the memory
    /// of one. Blank lines are skipped.
    /// - Throws: ``AppealsError/invalidInput(_:)`` naming the line of the first malformed record, or what
    ///   `body` throws.
    public func forEachRecord(in bytes: UnsafeBufferPointer<UInt8>, _ body: (CSVRecord) throws -> Void) throws {
        try forEachRecord(from: CSVInput(bytes, file: file), body)
    }

    /// Hands each record of `input` to `body` as it is read (see ``forEachRecord(in:_:)``).
    func forEachRecord(from input: CSVInput, _ body: (CSVRecord) throws -> Void) throws {
        if try input.peek() == 0xEF && input.peek(1) == 0xBB && input.peek(2) == 0xBF { input.advance(3) }
        var line = 1
        let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        let comma = Self.separator(ofFirstLine: try input.prefixLine(limit: 4096), knownColumns: knownColumns)
        /// The header's names, to say which column a bad field is in.
        var header: [String]?

        var fields: [String] = []
        var field: [UInt8] = []
        var recordLine = 1
        var atRecordStart = true

        func fail(_ message: String, at line: Int) -> AppealsError {
            .invalid(InputLocation(file: file, line: line), message)
        }
        func finishField() throws(AppealsError) {
            guard let text = String(validating: field, as: UTF8.self) else {
                let column = header.flatMap { fields.count < $0.count ? "column \($0[fields.count])" : nil } ?? "field \(fields.count + 1)"
                throw fail("\(column) is not UTF-8 text (is the file Latin-1 or Windows-1252?): save it as UTF-8 "
                           + "(in LibreOffice: File > Save As, Keep current format, Character set: Unicode (UTF-8); in Excel: CSV UTF-8)", at: recordLine)
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            if fields.count > limits.maxFields {
                throw fail("more than \(limits.maxFields) fields in one record", at: recordLine)
            }
        }
        func append(_ byte: UInt8) throws(AppealsError) {
            if field.count >= limits.maxFieldBytes {
                throw fail("field \(fields.count + 1) is longer than \(limits.maxFieldBytes) bytes", at: recordLine)
            }
            field.append(byte)
        }
        /// The length of the line end starting with `byte`: CRLF is one line end.
        func lineEnd(_ byte: UInt8) throws(AppealsError) -> Int {
            guard byte == cr else { return 1 }
            return try input.peek(1) == lf ? 2 : 1
        }

        while let byte = try input.peek() {
            if atRecordStart {
                recordLine = line
                atRecordStart = false
                // A blank line is not a record.
                if byte == lf || byte == cr {
                    input.advance(try lineEnd(byte))
                    line += 1
                    atRecordStart = true
                    continue
                }
            }
            if byte == quote && field.isEmpty {
                // Quoted field: runs to the next lone quote.
                let openedOn = line
                input.advance(1)
                var closed = false
                while let byte = try input.peek() {
                    if byte == quote {
                        if try input.peek(1) == quote {
                            try append(quote)
                            input.advance(2)
                            continue
                        }
                        input.advance(1)
                        closed = true
                        break
                    }
                    if try byte == lf || (byte == cr && input.peek(1) != lf) { line += 1 }
                    try append(byte)
                    input.advance(1)
                }
                if !closed { throw fail("a quoted field opened on line \(openedOn) is never closed", at: openedOn) }
                if let next = try input.peek(), next != comma && next != lf && next != cr {
                    throw fail("unexpected character after a closing quote in field \(fields.count + 1)", at: line)
                }
                continue
            }
            if byte == comma {
                try finishField()
                input.advance(1)
            } else if byte == lf || byte == cr {
                try finishField()
                if header == nil { header = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
                try body(CSVRecord(line: recordLine, fields: fields))
                fields.removeAll(keepingCapacity: true)
                input.advance(try lineEnd(byte))
                line += 1
                atRecordStart = true
            } else if byte == quote {
                throw fail("a quote inside unquoted field \(fields.count + 1) (quote the whole field and double the quote)", at: line)
            } else {
                try append(byte)
                input.advance(1)
            }
        }
        if !atRecordStart {
            try finishField()
            try body(CSVRecord(line: recordLine, fields: fields))
        }
    }
}
