//! Top-K ranking metrics (precision, recall, NDCG, MAP, hit rate, coverage, novelty).
