import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Make failed, deferred or bounced letters due again now.")

    enum Status: String, ExpressibleByArgument, CaseIterable {
        case failed, deferred, bounced
    }

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "failed, deferred or bounced (default: failed and deferred; bounced ones go again only when asked, once the address is fixed).") var status: Status?

    func run() async throws {
        let statuses: [LetterStatus] = status.map { [LetterStatus(rawValue: $0.rawValue)!] } ?? [.failed, .deferred]
        let campaign = campaign
        let report = try await options.onStore(
            sqlite: { database throws(AppealsError) in try database.retry(campaign: campaign, statuses: statuses, now: Date()) },
            postgres: { store throws(AppealsError) in try await store.retry(campaign: campaign, statuses: statuses, now: Date()) })
        let (due, held) = (report.due, report.held)
        print("\(plural(due, "letter")) of \(campaign) \(due == 1 ? "is" : "are") due again")
        if held > 0 {
            print("\(plural(held, "more letter")) \(held == 1 ? "stays" : "stay") held behind disabled targets: `appeal-cli target enable` once their address is fixed"
                  + (statuses.contains(.bounced) ? ", then run this again" : ""))
        }
    }
}
