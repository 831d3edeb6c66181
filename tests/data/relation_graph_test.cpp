#include "finfuse/data/relation_graph.h"

#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace finfuse::data {
namespace {

class RelationGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("finfuse_graph_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  std::filesystem::path dir_;
};

TEST_F(RelationGraphTest, EdgeListWithValidityIntervals) {
  const auto path = write("edges.csv",
                          "source,target,relation,weight,start,end\n"
                          "A,B,supplier,0.5,,\n"
                          "B,C,customer,2,2015-01-01,2015-06-01\n"
                          "C,C,self,1,,\n");
  const RelationGraph graph = RelationGraph::load_edge_list(path);
  EXPECT_EQ(graph.edges().size(), 4u);  // two undirected edges, both directions; the self-loop is dropped
  const std::vector<std::string> entities = {"A", "B", "C", "D"};
  // Decisions at 14:30 UTC (a New York open in winter).
  const auto at_open = [&](int y, int m, int d) {
    const auto day = Date::from_ymd(y, m, d);
    return graph.snapshot(entities, day, Timestamp::at(day, 14 * 3600 + 1800));
  };
  EXPECT_EQ(at_open(2014, 12, 31).edges(), 2u);
  EXPECT_EQ(at_open(2015, 3, 1).edges(), 4u);
  EXPECT_EQ(at_open(2015, 6, 1).edges(), 2u);  // the end day is excluded
  // Entities outside the list are ignored; indices refer to the list.
  const auto subset = graph.snapshot({"C", "B"}, Date::from_ymd(2015, 3, 1), Timestamp::at(Date::from_ymd(2015, 3, 1)));
  ASSERT_EQ(subset.edges(), 2u);
  EXPECT_EQ(subset.source[0] + subset.target[0], 1);
  EXPECT_FLOAT_EQ(subset.weight[0], 2.0f);
}

// The lookahead rule of edges: an edge is used from the instant it became public. Dated by its start day alone, it is
// public from midnight UTC after that day: not at that day's open nor at its close, but at the next day's open.
TEST_F(RelationGraphTest, AnEdgeIsUsedFromTheInstantItBecamePublic) {
  const auto path = write("edges.csv",
                          "source,target,start,available\n"
                          "A,B,2015-03-02,\n"
                          "B,C,,2015-03-02T14:30:01Z\n"
                          "C,D,2015-03-01,2015-02-20\n");
  const RelationGraph graph = RelationGraph::load_edge_list(path);
  const std::vector<std::string> entities = {"A", "B", "C", "D"};
  const auto day = Date::from_ymd(2015, 3, 2);
  const auto open = Timestamp::at(day, 14 * 3600 + 1800);
  const auto close = Timestamp::at(day, 21 * 3600);
  const auto pairs = [&](Date d, Timestamp t) {
    std::set<std::string> out;
    const auto s = graph.snapshot(entities, d, t);
    for (std::size_t e = 0; e < s.edges(); ++e) {
      if (s.source[e] < s.target[e]) {
        out.insert(entities[static_cast<std::size_t>(s.source[e])] + entities[static_cast<std::size_t>(s.target[e])]);
      }
    }
    return out;
  };
  // At the open of the start day: not A-B (dated that day), not B-C (public one second later); C-D, announced on
  // February 20 and in force since March 1, is.
  EXPECT_EQ(pairs(day, open), (std::set<std::string>{"CD"}));
  EXPECT_EQ(pairs(day, open + 1), (std::set<std::string>{"BC", "CD"}));
  EXPECT_EQ(pairs(day, close), (std::set<std::string>{"BC", "CD"}));
  EXPECT_EQ(pairs(day + 1, Timestamp::at(day + 1, 14 * 3600 + 1800)), (std::set<std::string>{"AB", "BC", "CD"}));
  // Announced before it takes effect: used from its start day on, not before.
  EXPECT_TRUE(pairs(Date::from_ymd(2015, 2, 27), Timestamp::at(Date::from_ymd(2015, 2, 27), 21 * 3600)).empty());
  EXPECT_THROW(RelationGraph::load_edge_list(write("bad.csv", "source,target,available\nA,B,soon\n")), DataError);
}

TEST_F(RelationGraphTest, BadEdges) {
  EXPECT_THROW(RelationGraph::load_edge_list(write("a.csv", "source,target,weight\nA,B,nan\n")), DataError);
  EXPECT_THROW(RelationGraph::load_edge_list(write("b.csv", "source,target,start,end\nA,B,2015-02-01,2015-01-01\n")),
               DataError);
  EXPECT_THROW(RelationGraph::load_edge_list(write("c.csv", "from,to\nA,B\n")), DataError);
  EdgeListOptions lenient;
  lenient.errors = ErrorMode::lenient;
  EXPECT_EQ(RelationGraph::load_edge_list(write("d.csv", "source,target\nA,B\n,C\n"), lenient).edges().size(), 2u);
}

TEST_F(RelationGraphTest, SectorTable) {
  const auto path = write("StockTable", "Sector\tSymbol\tCompany\nTech\t$AAPL\tApple\nTech\t$MSFT\tMicrosoft\nEnergy\t$XOM\tExxon\n");
  const RelationGraph graph = RelationGraph::from_sector_table(path);
  const auto snapshot =
      graph.snapshot({"AAPL", "MSFT", "XOM"}, Date::from_ymd(2015, 1, 1), Timestamp::at(Date::from_ymd(2015, 1, 1)));
  ASSERT_EQ(snapshot.edges(), 2u);
  EXPECT_EQ(graph.edges()[0].relation, "sector:Tech");
}

TEST(RelationGraphRealData, StockNetSectors) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "stocknet/StockTable");
  const RelationGraph graph = RelationGraph::from_sector_table(path);
  // Nine sectors: eight of ten stocks and one of eight: 8 * 10 * 9 + 8 * 7.
  EXPECT_EQ(graph.edges().size(), 8u * 90u + 56u);
}

TEST(CorrelationGraph, PastReturnsOnly) {
  // A and B move together, C against them, D is flat; after 2015-01-20 B turns against A.
  PricePanel panel;
  const std::vector<double> moves = {0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.005, -0.015, 0.01, 0.02};
  const auto make = [&](const std::string& symbol, double sign, bool flips) {
    PriceSeries s;
    s.symbol = symbol;
    double p = 100;
    Date day = Date::from_ymd(2015, 1, 5);
    for (int i = 0; i < 20; ++i) {
      while (day.weekday() == 0 || day.weekday() == 6) {
        day = day + 1;
      }
      s.dates.push_back(day);
      for (auto* column : {&s.open, &s.high, &s.low, &s.close, &s.adj_close}) {
        column->push_back(p);
      }
      s.volume.push_back(1);
      const double direction = flips && day >= Date::from_ymd(2015, 1, 20) ? -sign : sign;
      p *= std::exp(direction * moves[static_cast<std::size_t>(i) % moves.size()]);
      day = day + 1;
    }
    return s;
  };
  panel.add(make("A", 1, false));
  panel.add(make("B", 1, true));
  panel.add(make("C", -1, false));
  panel.add(make("D", 0, false));
  const MarketClock clock;
  const std::vector<std::string> entities = {"A", "B", "C", "D"};
  // As of the close of 2015-01-16: returns of the 5 days before; B still follows A.
  const auto early = correlation_graph(panel, entities, clock.close(Date::from_ymd(2015, 1, 16)), clock, 5, 0.9);
  ASSERT_EQ(early.edges(), 6u);  // A-B, A-C, B-C in both directions; D has no variance
  for (std::size_t k = 0; k < early.edges(); ++k) {
    const bool same_side = (early.source[k] == 2) == (early.target[k] == 2);
    EXPECT_NEAR(early.weight[k], same_side ? 1.0 : -1.0, 1e-5);
  }
  // Late enough for B's reversal to fill the window: now B correlates with C instead of A.
  const auto late = correlation_graph(panel, entities, clock.close(Date::from_ymd(2015, 1, 30)), clock, 5, 0.9);
  bool b_with_c_positive = false;
  for (std::size_t k = 0; k < late.edges(); ++k) {
    if (late.source[k] == 1 && late.target[k] == 2) {
      b_with_c_positive = late.weight[k] > 0.9f;
    }
  }
  EXPECT_TRUE(b_with_c_positive);
  EXPECT_EQ(correlation_graph(panel, entities, clock.close(Date::from_ymd(2015, 1, 6)), clock, 5, 0.5).edges(), 0u);
}

}  // namespace
}  // namespace finfuse::data
