import Foundation
import GRDB

/// Dates made database values once each: GRDB formats every `Date` it binds anew, through a
/// `DateFormatter`, which cost more than the rest of a row. Bulk writes bind the same instants again
/// and again (a batch queued at one time, a commit of outcomes stamped at one time).
struct DatabaseDates {
    private var values: [Date: DatabaseValue] = [:]

    mutating func value(_ date: Date?) -> DatabaseValue {
        guard let date else { return .null }
        if let value = values[date] { return value }
        let value = date.databaseValue
        values[date] = value
        return value
    }
}
