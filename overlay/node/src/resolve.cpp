// SPDX-License-Identifier: Apache-2.0
// Seeds -> addresses. Names go through Asio's asynchronous resolver (getaddrinfo on Asio's own
// thread); SRV queries and contact files block, so they run on a small worker pool and the
// calling coroutine resumes on its own executor with the result.
#include "hypar/node/resolve.hpp"

#include "blocking.hpp"
#include "hypar/bytes.hpp"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <asio/ip/tcp.hpp>
#include <asio/system_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>

namespace hypar::resolve {
namespace {

struct SrvAnswer {
  std::vector<SrvRecord> records;
  std::string error;
};

struct FileContents {
  std::string text;
  std::string error;
};

FileContents read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {{}, "cannot read the file"};
  std::ostringstream text;
  text << in.rdbuf();
  return {text.str(), {}};
}

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

// Every address of `contact` (one when it is an IP literal), added to `out` in resolver order.
asio::awaitable<void> resolve_host(const HostPort& contact, std::string origin, Resolution& out) {
  if (const auto literal = Address::parse(contact.to_string())) {
    out.add({*literal, std::move(origin)});
    co_return;
  }
  if (origin.empty()) origin = contact.to_string();
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  const std::string service = std::to_string(contact.port);
  try {
    const auto results = co_await resolver.async_resolve(contact.host, service, asio::ip::resolver_base::numeric_service,
                                                         asio::use_awaitable);
    bool any = false;
    for (const auto& entry : results) {
      const auto endpoint = entry.endpoint();
      const auto ip = endpoint.address();
      const std::string text = ip.is_v6() ? "[" + ip.to_string() + "]:" + std::to_string(endpoint.port())
                                          : ip.to_string() + ":" + std::to_string(endpoint.port());
      if (const auto address = Address::parse(text)) {
        out.add({*address, origin});
        any = true;
      }
    }
    if (!any) out.failures.push_back({origin, "resolve: no address"});
  } catch (const asio::system_error& e) {
    if (e.code() == asio::error::operation_aborted) throw;
    out.failures.push_back({origin, "resolve: " + e.code().message()});
  }
}

}  // namespace

std::string Contact::label() const {
  const std::string text = address.to_string();
  return origin.empty() || origin == text ? text : text + " (" + origin + ")";
}

std::vector<Address> Resolution::addresses() const {
  std::vector<Address> out;
  out.reserve(contacts.size());
  for (const auto& c : contacts) out.push_back(c.address);
  return out;
}

void Resolution::add(Contact contact) {
  const bool known = std::any_of(contacts.begin(), contacts.end(),
                                 [&](const Contact& c) { return c.address == contact.address; });
  if (!known) contacts.push_back(std::move(contact));
}

void order_srv(std::vector<SrvRecord>& records) {
  std::sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.target != b.target) return a.target < b.target;
    return a.port < b.port;
  });
}

std::vector<SrvRecord> parse_srv_answer(std::span<const std::uint8_t> answer, std::string& error) {
  std::vector<SrvRecord> records;
  ns_msg message;
  if (ns_initparse(answer.data(), static_cast<int>(answer.size()), &message) != 0) {
    error = "malformed DNS answer";
    return records;
  }
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&message, ns_s_an, i, &rr) != 0) {
      error = "malformed DNS answer";
      return {};
    }
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in) continue;  // e.g. a CNAME on the way
    const std::uint8_t* rdata = ns_rr_rdata(rr);
    if (ns_rr_rdlen(rr) < 7) {
      error = "malformed SRV record";
      return {};
    }
    char target[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(message), ns_msg_end(message), rdata + 6, target, sizeof target) < 0) {
      error = "malformed SRV target";
      return {};
    }
    SrvRecord record{load_be16(rdata), load_be16(rdata + 2), load_be16(rdata + 4), target};
    if (record.target.empty() || record.target == "." || record.port == 0) continue;  // "no such service here"
    records.push_back(std::move(record));
  }
  if (records.empty() && error.empty()) error = "no SRV record";
  order_srv(records);
  return records;
}

std::vector<SrvRecord> query_srv(const std::string& name, std::string& error) {
  struct __res_state state {};
  if (res_ninit(&state) != 0) {
    error = "cannot initialise the DNS resolver";
    return {};
  }
  std::vector<std::uint8_t> answer(NS_MAXMSG);
  const int n = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(), static_cast<int>(answer.size()));
  std::vector<SrvRecord> records;
  if (n < 0) {
    error = hstrerror(state.res_h_errno);
  } else {
    records = parse_srv_answer(std::span(answer).first(static_cast<std::size_t>(n)), error);
  }
  res_nclose(&state);
  return records;
}

std::vector<HostPort> parse_contact_file(std::string_view text, const std::string& file,
                                         std::vector<ContactFailure>& failures) {
  std::vector<HostPort> contacts;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const std::string entry = trimmed(line);
    if (entry.empty()) continue;
    if (auto contact = HostPort::parse(entry)) {
      contacts.push_back(std::move(*contact));
    } else {
      failures.push_back({file + ":" + std::to_string(line_number), "bad contact \"" + entry + "\" (HOST:PORT)"});
    }
  }
  return contacts;
}

// (No temporaries inside co_await expressions here: GCC 12 destroys some of them twice.)
asio::awaitable<Resolution> resolve(Seeds seeds) {
  Resolution out;
  for (const auto& contact : seeds.contacts) {
    std::string origin;
    co_await resolve_host(contact, std::move(origin), out);
  }
  for (const auto& name : seeds.srv) {
    auto query = [name] {
      SrvAnswer a;
      a.records = query_srv(name, a.error);
      return a;
    };
    const SrvAnswer answer = co_await blocking::run(std::move(query));
    if (answer.records.empty()) {
      out.failures.push_back({name, "resolve: " + answer.error});
      continue;
    }
    for (const auto& record : answer.records) {
      HostPort target{record.target, record.port};
      if (!target.host.empty() && target.host.back() == '.') target.host.pop_back();
      std::string origin = name + " -> " + target.to_string();
      co_await resolve_host(target, std::move(origin), out);
    }
  }
  for (const auto& file : seeds.files) {
    auto read = [file] { return read_file(file); };
    const FileContents contents = co_await blocking::run(std::move(read));
    if (!contents.error.empty()) {
      out.failures.push_back({file, contents.error});
      continue;
    }
    const auto contacts = parse_contact_file(contents.text, file, out.failures);
    if (contacts.empty()) out.failures.push_back({file, "no contact in the file"});
    for (const auto& contact : contacts) {
      std::string origin = Address::parse(contact.to_string()) ? file : file + ": " + contact.to_string();
      co_await resolve_host(contact, std::move(origin), out);
    }
  }
  co_return out;
}

}  // namespace hypar::resolve
