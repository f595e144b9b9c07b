/// Where in an input file a problem was found.
public struct InputLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?

    public init(file: String, line: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let field { text += ": \(field)" }
        return text
    }
}

/// One problem in one row or value of an input file.
public struct InputIssue: Sendable, Equatable, CustomStringConvertible {
    public var location: InputLocation
    public var message: String

    public init(_ location: InputLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Every error the `Appeals` module reports; each reads well to a user and names the file, line or key at fault.
public enum AppealsError: Error, CustomStringConvertible, Equatable {
    /// Bad input: one or more problems in files, arguments or configuration. Nothing was changed.
    case invalidInput([InputIssue])
    /// Something named on the command line does not exist.
    case notFound(String)
    /// The request conflicts with what is stored (a campaign that already exists, a campaign not open).
    case conflict(String)
    /// The database could not be opened or written.
    case storage(String)

    /// Runs `body`, whose errors are ``AppealsError``s passed through untyped closures.
    static func rethrown<T>(_ body: () throws -> T) throws(AppealsError) -> T {
        do {
            return try body()
        } catch let error as AppealsError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    public static func invalid(_ location: InputLocation, _ message: String) -> AppealsError {
        .invalidInput([InputIssue(location, message)])
    }

    /// `true` when the fault is in what the user supplied (exit code 2), not in the machine.
    public var isUserError: Bool {
        switch self {
        case .invalidInput, .notFound, .conflict: true
        case .storage: false
        }
    }

    public var description: String {
        switch self {
        case .invalidInput(let issues):
            if issues.count == 1 { return issues[0].description }
            return "\(issues.count) problems:\n" + issues.map { "  \($0)" }.joined(separator: "\n")
        case .notFound(let message), .conflict(let message), .storage(let message):
            return message
        }
    }
}
