//! `to_json(struct)`: a struct as a JSON object in text, null members left out, as Spark's
//! `to_json` writes it (the OCSF views' `unmapped` column is built with it).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringBuilder, StructArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ToJson {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].clone().into_array(args.number_rows)?;
        let Some(structs) = array.as_any().downcast_ref::<StructArray>() else {
            return exec_err!(
                "to_json takes a struct (named_struct(...)), not {}",
                array.data_type()
            );
        };
        Ok(ColumnarValue::Array(encode(structs)?))
    }
}

/// One JSON object per row (null rows stay null).
fn encode(structs: &StructArray) -> Result<ArrayRef> {
    let batch = RecordBatch::from(structs.clone());
    let mut lines = Vec::new();
    {
        let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut lines);
        writer.write(&batch)?;
        writer.finish()?;
    }
    let text = String::from_utf8(lines).expect("the JSON writer writes UTF-8");
    let mut out = StringBuilder::with_capacity(structs.len(), text.len());
    for (row, line) in text.lines().enumerate() {
        match structs.is_valid(row) {
            true => out.append_value(line),
            false => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn structs_become_json_objects_without_their_nulls() {
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let batches = ctx
            .sql("SELECT to_json(named_struct('a', 1, 'b', CAST(NULL AS VARCHAR), 'c', 'x\"y', 'd', true)) AS j")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let column = batches[0].column(0);
        let text = column
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .unwrap();
        assert_eq!(text.value(0), r#"{"a":1,"c":"x\"y","d":true}"#);
    }
}
