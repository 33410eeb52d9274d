// Every named thing of a schema that has no description: types, fields, arguments, input fields, enum values.
import {
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
} from "graphql";

const described = (description: string | null | undefined) => Boolean(description?.trim());

/** `Type`, `Type.field`, `Type.field(arg)`, `Enum.VALUE`: every item lacking a description. */
export function undescribed(schema: GraphQLSchema): { items: number; missing: string[] } {
  let items = 0;
  const missing: string[] = [];
  const check = (name: string, description: string | null | undefined) => {
    items++;
    if (!described(description)) missing.push(name);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    if (isScalarType(type) && ["String", "Int", "Float", "Boolean", "ID"].includes(type.name)) continue;
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
    } else if (isUnionType(type) || isScalarType(type)) {
      // the type's own description is all there is
    }
  }
  for (const directive of schema.getDirectives()) {
    if (["include", "skip", "deprecated", "specifiedBy", "oneOf"].includes(directive.name)) continue;
    check(`@${directive.name}`, directive.description);
    for (const arg of directive.args) check(`@${directive.name}(${arg.name})`, arg.description);
  }
  return { items, missing };
}
