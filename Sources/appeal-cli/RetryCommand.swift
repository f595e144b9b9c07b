import Appeals
import ArgumentParser
import Foundation

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Make failed or deferred letters due again now.")

    enum Status: String, ExpressibleByArgument, CaseIterable {
        case failed, deferred
    }

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "failed or deferred (default: both).") var status: Status?

    func run() throws {
        let database = try options.openDatabase()
        let statuses: [LetterStatus] = status.map { [$0 == .failed ? .failed : .deferred] } ?? [.failed, .deferred]
        let count = try reporting { () throws(AppealsError) in try database.retry(campaign: campaign, statuses: statuses, now: Date()) }
        print("\(count) letters of \(campaign) are due again")
    }
}
