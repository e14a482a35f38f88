#include "config/toml_reader.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "toml++/toml.h"

namespace canary::config {
namespace {

// Debian's Abseil has absl::string_view != std::string_view: convert at the
// toml++ seam.
absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

Position At(const toml::source_region& where) {
  return {where.begin.line, where.begin.column};
}

Node Convert(const toml::node& in) {
  Node out;
  out.position = At(in.source());
  switch (in.type()) {
    case toml::node_type::table: {
      out.type = Node::Type::kTable;
      // toml::table is ordered by key; the schema wants file order, so that
      // the first error in the file is the one reported.
      for (auto&& [key, value] : *in.as_table()) {
        out.entries.push_back(Node::Entry{std::string(key.str()),
                                          At(key.source()), Convert(value)});
      }
      std::stable_sort(
          out.entries.begin(), out.entries.end(),
          [](const Node::Entry& a, const Node::Entry& b) {
            return std::pair(a.key_position.line, a.key_position.column) <
                   std::pair(b.key_position.line, b.key_position.column);
          });
      break;
    }
    case toml::node_type::array:
      out.type = Node::Type::kArray;
      for (const toml::node& element : *in.as_array()) {
        out.elements.push_back(Convert(element));
      }
      break;
    case toml::node_type::string:
      out.type = Node::Type::kString;
      out.string = in.as_string()->get();
      break;
    case toml::node_type::integer:
      out.type = Node::Type::kInteger;
      out.integer = in.as_integer()->get();
      break;
    case toml::node_type::floating_point:
      out.type = Node::Type::kFloat;
      out.number = in.as_floating_point()->get();
      break;
    case toml::node_type::boolean:
      out.type = Node::Type::kBoolean;
      out.boolean = in.as_boolean()->get();
      break;
    case toml::node_type::date:
      out.type = Node::Type::kDate;
      break;
    case toml::node_type::time:
      out.type = Node::Type::kTime;
      break;
    case toml::node_type::date_time:
      out.type = Node::Type::kDateTime;
      break;
    case toml::node_type::none:
      break;
  }
  return out;
}

}  // namespace

absl::StatusOr<Node> ReadToml(absl::string_view text,
                              absl::string_view filename) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(text.data(), text.size()),
                       std::string_view(filename.data(), filename.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", e.source().begin.line, ":",
                     e.source().begin.column, ": ", AbslView(e.description())));
  }
  return Convert(root);
}

}  // namespace canary::config
