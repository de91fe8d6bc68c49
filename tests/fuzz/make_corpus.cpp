// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpora of the fuzz targets: valid messages made by the real encoders, so that
// every target starts from inputs that reach deep into its decoder, plus edge cases (each limit
// exactly, and one past it). Usage: hypar_make_fuzz_corpus <dir>  -> <dir>/<target>/<seed>.
// The output is deterministic; the files are committed under tests/fuzz/corpus/.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hypar/bytes.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/node/saved_state.hpp"
#include "hypar/plumtree/codec.hpp"
#include "hypar/transport/auth.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake.hpp"

namespace {

namespace hv = hypar::hyparview;
namespace pt = hypar::plumtree;
namespace tr = hypar::transport;
using Bytes = std::vector<std::uint8_t>;
using hypar::Address;
using hypar::PeerId;

std::filesystem::path g_root;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const auto dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
// A file name for a text seed: its letters and digits, the rest as '_'.
std::string file_name(const std::string& prefix, std::string s) {
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return prefix + s;
}

PeerId peer(int i, std::uint64_t incarnation = 1) {
  return PeerId{Address::v4(10, 0, 0, static_cast<std::uint8_t>(i), 7000), "n" + std::to_string(i), incarnation};
}
PeerId peer_v6() {
  Address a;
  a.family = Address::Family::v6;
  a.ip[15] = 1;
  a.port = 65535;
  return PeerId{a, std::string(hypar::kMaxNameLength, 'x'), ~std::uint64_t{0}};
}

template <class Message, class Encode>
Bytes encoded(const Message& m, Encode encode) {
  Bytes out;
  encode(m, out);
  return out;
}

// ---- one seed set per target ----

std::vector<std::pair<std::string, Bytes>> hyparview_messages() {
  const auto enc = [](const hv::Message& m) { return encoded(m, [](const hv::Message& x, Bytes& o) { hv::encode(x, o); }); };
  std::vector<PeerId> many;
  for (int i = 1; i <= static_cast<int>(hv::kMaxShufflePeers); ++i) many.push_back(peer(i % 250 + 1));
  return {
      {"join", enc(hv::Join{})},
      {"forward_join", enc(hv::ForwardJoin{peer(3), 6})},
      {"forward_join_v6", enc(hv::ForwardJoin{peer_v6(), 255})},
      {"neighbor_high", enc(hv::Neighbor{hv::Priority::high})},
      {"neighbor_swap", enc(hv::Neighbor{hv::Priority::high, peer(8)})},
      {"neighbor_reply", enc(hv::NeighborReply{true})},
      {"disconnect", enc(hv::Disconnect{false})},
      {"disconnect_ask", enc(hv::Disconnect{true, peer(9)})},
      {"shuffle", enc(hv::Shuffle{peer(2), 5, 7, {peer(4), peer(5, 2), peer_v6()}})},
      {"shuffle_max_peers", enc(hv::Shuffle{peer(2), 1, 0xffffffff, many})},
      {"shuffle_reply", enc(hv::ShuffleReply{9, {peer(6), peer(7)}})},
      {"keepalive", enc(hv::Keepalive{})},
  };
}

std::vector<std::pair<std::string, Bytes>> plumtree_messages() {
  const auto enc = [](const pt::Message& m) { return encoded(m, [](const pt::Message& x, Bytes& o) { pt::encode(x, o); }); };
  const pt::MessageId id{Address::v4(10, 0, 0, 1, 7000), 42};
  const pt::MessageId id6{peer_v6().address, ~std::uint64_t{0}};
  pt::IHave ihave;
  for (std::uint64_t s = 0; s < 5; ++s) {
    ihave.entries.push_back({{id.origin, s}, static_cast<std::uint16_t>(s), static_cast<std::uint32_t>(s * 7'000)});
  }
  return {
      {"gossip", enc(pt::Gossip{id, 1, text("hello, world"), 250})},
      {"gossip_empty", enc(pt::Gossip{id6, 65535, {}, 0xffffffff})},
      {"ihave", enc(ihave)},
      {"ihave_empty", enc(pt::IHave{})},
      {"graft_id", enc(pt::Graft{id, 3})},
      {"graft_no_id", enc(pt::Graft{std::nullopt, 0})},
      {"prune", enc(pt::Prune{})},
  };
}

tr::Hello hello(bool secret) {
  tr::Hello h;
  h.sender = peer(1);
  h.flags = secret ? tr::kHelloFlagAuthChallenge : 0;
  for (std::size_t i = 0; i < h.nonce.size(); ++i) h.nonce[i] = static_cast<std::uint8_t>(0xc0 + i);
  return h;
}

void handshake() {
  const auto enc_hello = [](const tr::Hello& h) { return encoded(h, tr::encode_hello); };
  write("handshake", "hello", enc_hello(hello(false)));
  write("handshake", "hello_auth", enc_hello(hello(true)));
  tr::Hello v6 = hello(true);
  v6.sender = peer_v6();
  write("handshake", "hello_v6_long_name", enc_hello(v6));
  tr::Hello with_metadata = hello(false);
  with_metadata.metadata = {{"app", "10.0.1.1:9000"}, {"zone", "eu-west-1"}};
  write("handshake", "hello_metadata", enc_hello(with_metadata));
  tr::Proof proof{};
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<std::uint8_t>(i);
  Bytes auth;
  tr::encode_auth(proof, auth);
  write("handshake", "auth", auth);
  // Edge cases: another version (checked right after the magic), unknown flags, metadata keys out
  // of order, trailing bytes.
  Bytes other_version = enc_hello(hello(false));
  other_version[5] = 1;
  write("handshake", "edge_version_1", other_version);
  Bytes flags = enc_hello(hello(false));
  flags[flags.size() - 1 - tr::kNonceSize - 1] = 0x80;  // before the nonce and the metadata count
  write("handshake", "edge_unknown_flag", flags);
  tr::Hello two_keys = hello(false);
  two_keys.metadata = {{"a", "1"}, {"b", "2"}};
  Bytes unordered = enc_hello(two_keys);
  std::swap(unordered[unordered.size() - 4], unordered[unordered.size() - 9]);
  write("handshake", "edge_metadata_unordered", unordered);
  Bytes trailing = auth;
  trailing.push_back(0);
  write("handshake", "edge_auth_trailing", trailing);
}

void codecs() {
  for (const auto& [name, bytes] : hyparview_messages()) write("hyparview_codec", name, bytes);
  write("hyparview_codec", "edge_unknown_type", {0x09});
  Bytes too_many = hyparview_messages()[8].second;  // shuffle_reply: [type][u32 id][u8 count]...
  too_many[5] = static_cast<std::uint8_t>(hv::kMaxShufflePeers + 1);
  write("hyparview_codec", "edge_too_many_peers", too_many);
  for (const auto& [name, bytes] : plumtree_messages()) write("plumtree_codec", name, bytes);
  Bytes big = plumtree_messages()[0].second;  // gossip: [type][addr 7][u64][u16 hops][u32 age][u32 length]
  hypar::store_be32(big.data() + 1 + 7 + 8 + 2 + 4, static_cast<std::uint32_t>(pt::kMaxPayloadBytes + 1));
  write("plumtree_codec", "edge_payload_too_large", big);
  Bytes entries = plumtree_messages()[2].second;  // ihave: [type][u16 count]
  hypar::store_be16(entries.data() + 1, static_cast<std::uint16_t>(pt::kMaxIHaveEntries + 1));
  write("plumtree_codec", "edge_too_many_entries", entries);
}

// The frame and core targets read their parameters with FuzzedDataProvider, which takes integers
// from the end of the input backwards and raw bytes from the front. ProviderTail records values in
// the order a target reads them and lays them out so that the provider reads them back.
class ProviderTail {
 public:
  // A value read with ConsumeIntegralInRange(lo, hi): one byte per 8 bits of hi - lo, most
  // significant first. ConsumeBool() is a one-byte read whose low bit is the value.
  ProviderTail& v(std::uint64_t value, std::uint64_t lo, std::uint64_t hi) {
    int n = 0;
    for (std::uint64_t range = hi - lo; n < 8 && (range >> (8 * n)) > 0; ++n) {
    }
    for (int k = n - 1; k >= 0; --k) tail_.push_back(static_cast<std::uint8_t>((value - lo) >> (8 * k)));
    return *this;
  }
  ProviderTail& b(bool x) { return v(x ? 1 : 0, 0, 255); }
  // The input: `front` (what the target reads as bytes), then the values, last value first.
  Bytes input(const Bytes& front = {}) const {
    Bytes out = front;
    out.insert(out.end(), tail_.rbegin(), tail_.rend());
    return out;
  }

 private:
  Bytes tail_;
};

// fuzz_frame.cpp reads: a bool (default limit or not), the limit (1..300) when not, a plan length,
// then (entry point, chunk length) pairs; the front is the stream.
Bytes frame_seed(const Bytes& stream, bool default_limit, std::uint32_t limit,
                 const std::vector<std::pair<std::uint8_t, std::uint8_t>>& plan) {
  ProviderTail tail;
  tail.b(default_limit);
  if (!default_limit) tail.v(limit, 1, 300);
  tail.v(plan.size(), 0, 32);
  for (const auto& [entry, length] : plan) tail.v(entry, 0, 2).v(length, 0, 96);
  return tail.input(stream);
}

void frames() {
  Bytes stream;
  for (const auto& [name, payload] : hyparview_messages()) tr::append_frame(stream, payload);
  for (const auto& [name, payload] : plumtree_messages()) tr::append_frame(stream, payload);
  write("frame", "messages_default_limit", frame_seed(stream, true, 0, {{0, 5}, {1, 90}, {2, 33}, {2, 1}}));
  write("frame", "messages_small_limit", frame_seed(stream, false, 200, {{2, 96}, {0, 3}, {1, 17}}));
  Bytes empty_frame = stream;
  empty_frame.resize(40);
  empty_frame.insert(empty_frame.end(), {0, 0, 0, 0, 0x08});
  write("frame", "edge_empty_frame", frame_seed(empty_frame, false, 100, {{1, 2}, {2, 40}}));
  Bytes oversized;
  tr::append_frame(oversized, Bytes(101, 0x20));
  write("frame", "edge_oversized", frame_seed(oversized, false, 100, {{0, 3}, {0, 1}}));
  write("frame", "edge_partial_tail", frame_seed(Bytes(stream.begin(), stream.begin() + 30), true, 0, {}));
}

void addresses() {
  for (const char* t : {"127.0.0.1:7000", "[::1]:7000", "[::ffff:10.0.0.1]:1", "255.255.255.255:65535",
                        "[fe80::1:2:3:4]:443"}) {
    write("address", file_name("text_", t), text(t));
  }
  for (const char* t : {"1.2.3.4:0", "1.2.3.4:65536", "[::1]", "[::1]7000", "1.2.3.4", "01.2.3.4:1", ":7000"}) {
    write("address", file_name("edge_", t), text(t));
  }
  Bytes nul = text("127.0.0.1");
  nul.push_back(0);
  for (char c : std::string("x:7000")) nul.push_back(static_cast<std::uint8_t>(c));
  write("address", "edge_embedded_nul", nul);
  Bytes binary;
  hypar::ByteWriter(binary).write_peer_id(peer(9));
  write("address", "peer_id_v4", binary);
  binary.clear();
  hypar::ByteWriter(binary).write_peer_id(peer_v6());
  write("address", "peer_id_v6", binary);
}

// fuzz_hyparview_core.cpp's Driver, step by step (its step() reads an op code 0..15 first).
class CoreSeed : public ProviderTail {
 public:
  CoreSeed& v(std::uint64_t value, std::uint64_t lo, std::uint64_t hi) {
    ProviderTail::v(value, lo, hi);
    return *this;
  }
  CoreSeed& b(bool x) { return v(x ? 1 : 0, 0, 255); }
  CoreSeed& op(unsigned code) { return v(code, 0, 15); }
  CoreSeed& peer(unsigned index, unsigned incarnation = 1) { return v(index, 0, 10).v(incarnation, 1, 3); }
  CoreSeed& link_up(unsigned index) { return op(2).peer(index); }
  // received(): the sender is the link at `position` (in address order), then the message type.
  CoreSeed& receive(unsigned position, unsigned type) { return op(5).v(1, 0, 7).v(position, 0, 9).v(type, 0, 7); }
  CoreSeed& advance(unsigned ms) { return op(0).b(true).v(ms, 0, 2000); }
  CoreSeed& fire_due() { return op(11); }
};

// Ready-made sessions the fuzzer grows: options, then a join that succeeds or fails, and so on.
void core_sessions() {
  // Options: active 3, passive 5, arwl 6, prwl 3, k_active 2, k_passive 2, jitter on, keepalive
  // on, quarantine on, reject backoff on; core seed 7; join through peer 1.
  const auto start = [](CoreSeed& s) {
    s.v(3, 1, 5).v(5, 1, 8).v(6, 1, 7).v(3, 0, 6).v(2, 0, 4).v(2, 0, 4).b(false).b(false).b(false).b(false);
    s.v(7, 0, 255).b(true).v(1, 0, 3).v(1, 0, 10);
  };
  CoreSeed joined;
  start(joined);
  joined.link_up(1);  // the contact's link comes up: JoinSucceeded
  for (unsigned i = 2; i <= 4; ++i) {  // neighbours connect and ask with high priority
    joined.link_up(i);
    joined.receive(i - 1, 2).b(true);
  }
  joined.receive(0, 5).peer(5).v(4, 0, 10).v(1, 0, 8).v(3, 0, 12).peer(6).peer(7).peer(8);  // SHUFFLE
  joined.advance(1500).fire_due().advance(2000).fire_due().advance(2000).fire_due();
  write("hyparview_core", "session_join_neighbors_shuffle", joined.input());

  CoreSeed lonely;
  start(lonely);
  lonely.op(4).v(1, 0, 10);  // the contact cannot be reached: JoinFailed, then rejoins with backoff
  lonely.advance(2000).fire_due().op(12).v(2, 0, 3).v(1, 0, 10).v(2, 0, 10).advance(2000).fire_due();
  write("hyparview_core", "session_join_fails", lonely.input());
}

// State files made by saved_state::encode, and damaged ones. fuzz_saved_state.cpp also decodes
// each input as a body wrapped in a valid header and checksum, so the bodies are seeds too.
void saved_states() {
  namespace ss = hypar::saved_state;
  const auto file = [](const ss::State& s) {
    const std::vector<std::byte> b = ss::encode(s);
    return Bytes(reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
  };
  const ss::State full{7, {peer(1), peer(2, 3)}, {peer(4), peer_v6(), peer(5)}, {Address::v4(10, 0, 0, 9, 7000), peer_v6().address}};
  write("saved_state", "state_full", file(full));
  write("saved_state", "state_empty", file(ss::State{}));
  const Bytes good = file(full);
  write("saved_state", "body_full", Bytes(good.begin() + 9, good.end() - 4));  // without header and CRC
  Bytes bad_crc = good;
  bad_crc.back() ^= 1;
  write("saved_state", "edge_bad_crc", bad_crc);
  Bytes version = good;
  version[4] = 2;
  write("saved_state", "edge_version_2", version);
  write("saved_state", "edge_truncated", Bytes(good.begin(), good.end() - 5));
  Bytes many = {0, 0, 0, 0, 0, 0, 0, 1};  // a body: incarnation 1, then a count above kMaxEntries
  hypar::ByteWriter(many).write_u16(static_cast<std::uint16_t>(ss::kMaxEntries + 1));
  write("saved_state", "edge_body_too_many", many);
}

// DNS answers to an SRV query, laid out as res_nquery returns them: header, the question, then
// answer records whose owner name points back at the question (0xC00C).
void put_name(Bytes& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    const std::size_t dot = name.find('.', start);
    const std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
}
struct Rr {
  std::uint16_t type = 33;  // SRV
  Bytes rdata;
};
Bytes srv_rdata(std::uint16_t priority, std::uint16_t weight, std::uint16_t port, const Bytes& target) {
  Bytes out;
  hypar::ByteWriter w(out);
  w.write_u16(priority);
  w.write_u16(weight);
  w.write_u16(port);
  w.write_bytes(target);
  return out;
}
Bytes dns_answer(const std::vector<Rr>& records) {
  Bytes out;
  hypar::ByteWriter w(out);
  for (const int v : {0x1234, 0x8180, 1, static_cast<int>(records.size()), 0, 0}) w.write_u16(static_cast<std::uint16_t>(v));
  put_name(out, "_hypar._tcp.example");
  w.write_u16(33);
  w.write_u16(1);
  for (const Rr& r : records) {
    w.write_u16(0xC00C);
    w.write_u16(r.type);
    w.write_u16(1);  // IN
    w.write_u32(60);
    w.write_u16(static_cast<std::uint16_t>(r.rdata.size()));
    w.write_bytes(r.rdata);
  }
  return out;
}
void srv_answers() {
  const auto name = [](const std::string& n) {
    Bytes b;
    put_name(b, n);
    return b;
  };
  write("srv_answer", "two_records",
        dns_answer({{33, srv_rdata(20, 0, 7002, name("c.example"))}, {33, srv_rdata(10, 5, 7001, name("b.example"))}}));
  Bytes cname = name("alias.example");
  write("srv_answer", "cname_then_srv", dns_answer({{5, cname}, {33, srv_rdata(1, 1, 7000, name("a.example"))}}));
  const Bytes pointer = {0xC0, 0x0C};  // the target compressed: a pointer to the question's name
  write("srv_answer", "compressed_target", dns_answer({{33, srv_rdata(0, 0, 7000, pointer)}}));
  write("srv_answer", "edge_root_target", dns_answer({{33, srv_rdata(0, 0, 7000, {0})}}));
  write("srv_answer", "edge_port_0", dns_answer({{33, srv_rdata(0, 0, 0, name("a.example"))}}));
  write("srv_answer", "edge_short_rdata", dns_answer({{33, {0, 1, 0, 2}}}));
  write("srv_answer", "edge_no_records", dns_answer({}));
  const Bytes loop = {0xC0, 0x2A};  // a pointer into the record itself
  write("srv_answer", "edge_pointer_loop", dns_answer({{33, srv_rdata(0, 0, 7000, loop)}}));
  Bytes truncated = dns_answer({{33, srv_rdata(1, 1, 7000, name("a.example"))}});
  truncated.resize(truncated.size() - 3);
  write("srv_answer", "edge_truncated", truncated);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR   (writes CORPUS_DIR/<target>/<seed>)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  handshake();
  codecs();
  frames();
  addresses();
  core_sessions();
  saved_states();
  srv_answers();
  return 0;
}
